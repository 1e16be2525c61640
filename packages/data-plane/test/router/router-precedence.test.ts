import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { request, routerFor } from './router-fixture.ts'

interface Case {
  behaviour: string
  host?: string
  target: string
  method?: string
  expect: string | undefined
}

function runTable(title: string, locations: Record<string, Record<string, unknown>>, cases: Case[]): void {
  describe(title, () => {
    const router = routerFor(locations)
    for (const c of cases) {
      test(c.behaviour, () => {
        const route = router.match(request(c.host ?? 'example.com', c.target, c.method ?? 'GET'))
        assert.equal(route?.name, c.expect)
      })
    }
  })
}

runTable(
  'path kinds',
  {
    api: { path: '/api' },
    api_v1: { path: '/api/v1' },
    status: { path: '=/api/v1/status' },
    png: { path: '~\\.png$' },
    static_files: { path: '~^/static/' },
    named: { path: '~^/users/(?<id>\\d+)$' },
  },
  [
    { behaviour: 'an exact path beats a longer-matching prefix', target: '/api/v1/status', expect: 'status' },
    { behaviour: 'an exact path does not match a longer path', target: '/api/v1/status/x', expect: 'api_v1' },
    { behaviour: 'the longest prefix wins', target: '/api/v1/users', expect: 'api_v1' },
    { behaviour: 'a prefix matches the path equal to it', target: '/api/v1', expect: 'api_v1' },
    { behaviour: 'a prefix matches on a character boundary', target: '/apix', expect: 'api' },
    { behaviour: 'a shorter prefix takes what the longer one misses', target: '/api/v2', expect: 'api' },
    { behaviour: 'a prefix beats a regex that also matches', target: '/api/logo.png', expect: 'api' },
    { behaviour: 'regexes are tried in config order', target: '/static/logo.png', expect: 'png' },
    { behaviour: 'a later regex matches when earlier ones do not', target: '/static/site.css', expect: 'static_files' },
    { behaviour: 'a regex with named captures matches', target: '/users/42', expect: 'named' },
    { behaviour: 'a path nothing matches gives no route', target: '/ap', expect: undefined },
    { behaviour: 'an unmatched path among regexes gives no route', target: '/users/x', expect: undefined },
  ],
)

runTable('catch-all prefixes', { everything: { path: '' }, root: { path: '/' }, docs: { path: '/docs' } }, [
  { behaviour: 'the "/" prefix beats the empty catch-all', target: '/x', expect: 'root' },
  { behaviour: 'a longer prefix beats "/"', target: '/docs/a', expect: 'docs' },
  { behaviour: 'the empty path matches what "/" cannot', target: '*', method: 'OPTIONS', expect: 'everything' },
])

runTable(
  'host tiers for the same path kind',
  {
    any: { path: '/' },
    regex_host: { host: '~^shop\\.', path: '/' },
    wild_short: { host: '*.example.com', path: '/' },
    wild_long: { host: '*.eu.example.com', path: '/' },
    exact_host: { host: 'Shop.EU.Example.com', path: '/' },
    any_api: { path: '/api' },
    any_login: { path: '=/login' },
    listed: { host: ['a.test', '*.b.test'], path: '/' },
    regex_upper: { host: '~^CASE\\.', path: '/' },
  },
  [
    { behaviour: 'an exact host beats wildcards, regex hosts and no host', host: 'shop.eu.example.com', target: '/', expect: 'exact_host' },
    { behaviour: 'a longer wildcard suffix beats a shorter one', host: 'x.eu.example.com', target: '/', expect: 'wild_long' },
    { behaviour: 'a wildcard host beats a regex host', host: 'shop.example.com', target: '/', expect: 'wild_short' },
    { behaviour: 'a regex host beats no host', host: 'shop.other.org', target: '/', expect: 'regex_host' },
    { behaviour: 'a wildcard does not match its bare domain', host: 'example.com', target: '/', expect: 'any' },
    { behaviour: 'a wildcard matches a deeper subdomain', host: 'a.b.c.example.com', target: '/', expect: 'wild_short' },
    { behaviour: 'a wildcard matches the parent of a longer wildcard', host: 'eu.example.com', target: '/', expect: 'wild_short' },
    { behaviour: 'a specific host beats a longer host-less prefix', host: 'shop.eu.example.com', target: '/api/x', expect: 'exact_host' },
    {
      behaviour: 'a host-less exact path beats a host-specific prefix',
      host: 'shop.eu.example.com',
      target: '/login',
      expect: 'any_login',
    },
    { behaviour: 'a host list matches its exact entry', host: 'a.test', target: '/', expect: 'listed' },
    { behaviour: 'a host list matches its wildcard entry', host: 'x.b.test', target: '/', expect: 'listed' },
    { behaviour: 'regex hosts ignore case', host: 'case.org', target: '/', expect: 'regex_upper' },
    { behaviour: 'an absent host only matches host-less locations', host: '', target: '/', expect: 'any' },
  ],
)

runTable('hosts without a fallback', { only: { host: 'only.test', path: '/' } }, [
  { behaviour: 'a location with a host matches that host', host: 'only.test', target: '/a', expect: 'only' },
  { behaviour: 'a location with a host ignores other hosts', host: 'other.test', target: '/a', expect: undefined },
])

runTable(
  'explicit priority',
  {
    exact_plain: { path: '=/p/x' },
    prefix_plain: { path: '/p' },
    low: { path: '~^/p/', priority: 1 },
    high: { path: '~^/p/', priority: 5 },
    high_post: { path: '/p/post', methods: ['POST'], priority: 9 },
    negative: { path: '/n', priority: -10 },
    n_exact: { path: '=/n/x' },
    tie_prefix: { path: '/t', priority: 3 },
    tie_exact: { path: '=/t/x', priority: 3 },
  },
  [
    { behaviour: 'an explicit priority beats an exact path without one', target: '/p/x', expect: 'high' },
    { behaviour: 'the higher priority wins whatever the config order', target: '/p/y', expect: 'high' },
    { behaviour: 'a priority location failing its conditions falls to the next priority', target: '/p/post', expect: 'high' },
    { behaviour: 'the highest priority wins when its conditions hold', target: '/p/post', method: 'POST', expect: 'high_post' },
    { behaviour: 'a negative priority still beats no priority', target: '/n/x', expect: 'negative' },
    { behaviour: 'equal priorities fall back to path precedence', target: '/t/x', expect: 'tie_exact' },
    { behaviour: 'without a priority match the ordinary precedence applies', target: '/p', expect: 'prefix_plain' },
  ],
)
