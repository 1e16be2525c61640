// The web console in a real browser (Debian's chromium driven by playwright-core) against a real
// control plane on etcd and a data plane: sign-in, the fleet page, a schema-form edit that the data
// plane serves, a refused invalid value, rollback from the history, a read-only token, and config
// values holding HTML that must stay text.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { waitFor } from '@fleetgate/testkit'
import type { Page } from 'playwright-core'
import { type Answer, CHROMIUM, type ConsoleFixture, startConsole, textOf } from './console-fixture.ts'

const XSS = '<img src=x onerror=window.__xss=1;alert(1)>'

describe('web console in a browser', {
  skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (Debian package chromium)`,
  timeout: 90_000,
}, () => {
  let fx: ConsoleFixture
  let page: Page
  let editedGeneration: number
  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> =>
    fx.api(method, path, body, headers)
  const open = (route: string) => fx.open(route)

  before(async () => {
    fx = await startConsole()
    page = fx.page
  })
  after(async () => {
    await fx?.stop()
  })

  test('a wrong token shows the API 401 message and stores nothing; the right one opens the fleet page', async () => {
    await page.goto(`${fx.adminUrl}/`)
    assert.match(page.url(), /\/ui\/#\/sign-in$/)
    await page.locator('#token').fill('not-the-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await textOf(page.locator('.sign-in .notice.error'), /invalid token/)
    assert.equal(await page.evaluate(() => sessionStorage.length), 0)
    assert.equal(await page.locator('#nav').isHidden(), true)

    await page.locator('#token').fill(fx.adminToken)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/#\/fleet$/)
    assert.doesNotMatch(page.url(), new RegExp(fx.adminToken), 'the token never goes in the URL')
    assert.deepEqual(await page.context().cookies(), [], 'nor in a cookie')
    await textOf(page.locator('#role'), /^admin$/)
  })

  test('the fleet page shows the node, the generation it applied, and the publish state', async () => {
    const row = page.locator('#nodes tr[data-node="node1"]')
    await textOf(row.locator('td.applied'), new RegExp(`gen ${fx.firstGeneration}\\b`))
    await textOf(row, /current/)
    await textOf(page.locator('#publish-generation'), new RegExp(`^${fx.firstGeneration}$`))
    await textOf(page.locator('#fleet-summary'), /Nodes1/)
  })

  test('an edit through the schema form is published, listed in the history and served by the data plane', async () => {
    await open(`resources/locations/api`)
    const headers = page.locator('textarea[data-path="response_headers_add"]')
    await headers.fill('X-UI:edited')
    await page.locator('#change-message').fill('edited in the UI')
    await page.locator('#save').click()
    const saved = await textOf(page.locator('.result .notice.ok'), /published generation \d+/)
    editedGeneration = Number(/generation (\d+)/.exec(saved)?.[1])
    assert.ok(editedGeneration > fx.firstGeneration)
    assert.deepEqual((await api('GET', '/locations/api')).body.response_headers_add, ['X-UI:edited'])

    await waitFor('the node serves the edit', async () => (await fetch(`${fx.nodeUrl}/x`)).headers.get('x-ui') === 'edited', 10_000)

    await open(`versions`)
    const row = page.locator(`#versions tr[data-generation="${editedGeneration}"]`)
    await textOf(row, /edited in the UI/)
    await textOf(row, /current/)
  })

  test('an invalid value shows its error next to the field and nothing is stored', async () => {
    await open(`resources/locations/api`)
    await page.locator('input[data-path="upstream"]').fill('nope')
    await page.locator('#save').click()
    await textOf(page.locator('.field[data-path="upstream"] .field-error'), /unknown upstream/)
    await textOf(page.locator('.result .notice.error'), /locations\.api\.upstream/)
    assert.equal((await api('GET', '/locations/api')).body.upstream, 'api')
    assert.equal((await api('GET', '/publish')).body.generation, editedGeneration)
  })

  test('the versions page diffs two versions and rolls back with a confirm step', async () => {
    await open(`versions`)
    await page.locator('#diff-from').selectOption(String(fx.firstGeneration))
    await page.locator('#diff-to').selectOption(String(editedGeneration))
    await page.locator('#show-diff').click()
    await textOf(page.locator('#diff .diff-group.changed'), /locations\.api.*response_headers_add/)

    // Cancelling the confirm step changes nothing.
    await page.locator(`#versions tr[data-generation="${fx.firstGeneration}"] button[data-action="rollback"]`).click()
    await page.locator('dialog.confirm button[value="cancel"]').click()
    assert.equal((await api('GET', '/publish')).body.generation, editedGeneration)

    await page.locator(`#versions tr[data-generation="${fx.firstGeneration}"] button[data-action="rollback"]`).click()
    await textOf(page.locator('dialog.confirm h2'), new RegExp(`Roll back to generation ${fx.firstGeneration}`))
    await page.locator('dialog.confirm button[value="confirm"]').click()
    const done = await textOf(page.locator('.result .notice.ok'), /Rolled back: published generation \d+/)
    const rolledBack = Number(/generation (\d+)/.exec(done)?.[1])
    assert.ok(rolledBack > editedGeneration)
    await textOf(page.locator(`#versions tr[data-generation="${rolledBack}"] td.rollback-of`), new RegExp(`^${fx.firstGeneration}$`))
    await textOf(page.locator('#hold-state'), /held/)
    await waitFor(
      'the node serves the rolled-back config',
      async () => (await fetch(`${fx.nodeUrl}/x`)).headers.get('x-ui') === null,
      10_000,
    )

    await page.locator('#release-hold').click()
    await page.locator('dialog.confirm button[value="confirm"]').click()
    await textOf(page.locator('.result .notice.ok'), /Released/)
    await textOf(page.locator('#hold-state'), /auto-publish is on/)
  })

  test('config values and messages holding HTML are shown as text', async () => {
    const put = await api(
      'PUT',
      '/locations/api',
      { upstream: 'api', path: '/', headers_add: [`X-Evil:${XSS}`] },
      { 'x-fleetgate-message': XSS },
    )
    assert.equal(put.status, 200, JSON.stringify(put.body))
    assert.equal(put.body.published, true, JSON.stringify(put.body))
    await open(`versions`)
    await textOf(page.locator(`#versions tr[data-generation="${put.body.generation}"] td.message`), /^<img src=x onerror=/)
    assert.equal(await page.locator('img').count(), 0, 'the message stayed text')
    await open(`resources/locations/api`)
    assert.equal(await page.locator('textarea[data-path="headers_add"]').inputValue(), `X-Evil:${XSS}`)
    await page.locator('#tab-json').click()
    assert.match(await page.locator('#raw-json').inputValue(), /<img src=x onerror=/)
    assert.equal(await page.locator('img').count(), 0, 'the value stayed text')
    await open(`config`)
    await waitFor('TOML loaded', async () => (await page.locator('#config-toml').inputValue()).includes('<img'), 5000)
    assert.equal(await page.locator('img').count(), 0, 'no element was created from a value')
    assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined)
    assert.deepEqual(fx.dialogs, [], 'no script ran')
  })

  test('the whole-config page validates TOML and answers a stale save with 412 and a reload', async () => {
    await open('config')
    const text = page.locator('#config-toml')
    await waitFor('TOML loaded', async () => (await text.inputValue()).includes('[upstreams.api]'), 5000)
    const loaded = await text.inputValue()
    await text.fill(`${loaded}\n[upstreams.extra]\naddrs = ["127.0.0.1:9"]\nalgoritm = "random"\n`)
    await page.locator('#validate').click()
    await textOf(page.locator('.result .notice.error'), /upstreams\.extra\.algoritm/)
    await text.fill(`${loaded}\n[upstreams.extra]\naddrs = ["127.0.0.1:9"]\n`)
    await page.locator('#validate').click()
    await textOf(page.locator('.result .notice.ok'), /Valid/)

    // Someone else writes in between: the save carries the loaded ETag and is refused.
    const other = await api('PUT', '/upstreams/api', { addrs: [fx.backend.addr], algorithm: 'random' })
    assert.equal(other.status, 200, JSON.stringify(other.body))
    await page.locator('#save-config').click()
    await textOf(page.locator('.result .notice.error'), /Someone else changed the config/)
    assert.equal((await api('GET', '/upstreams')).body.extra, undefined, 'the stale save stored nothing')
    await page.locator('#reload-after-412').click()
    await textOf(page.locator('.result .notice.ok'), /Reloaded/)
    assert.match(await text.inputValue(), /algorithm = "random"/)

    await text.fill(`${await text.inputValue()}\n[upstreams.extra]\naddrs = ["127.0.0.1:9"]\n`)
    await page.locator('#save-config').click()
    const saved = await textOf(page.locator('.result .notice.ok'), /published generation \d+/)
    assert.equal((await api('GET', '/publish')).body.generation, Number(/generation (\d+)/.exec(saved)?.[1]))
    assert.deepEqual((await api('GET', '/upstreams/extra')).body.addrs, ['127.0.0.1:9'])
  })

  test('deleting a referenced resource is refused with a clear 409; an unreferenced one goes', async () => {
    await open('resources/upstreams/api')
    await page.locator('#delete').click()
    await page.locator('dialog.confirm button[value="confirm"]').click()
    await textOf(page.locator('.result .notice.error'), /Refused \(conflict\)/)
    assert.equal((await api('GET', '/upstreams/api')).status, 200)

    await open('resources/upstreams/extra')
    await page.locator('#delete').click()
    await page.locator('dialog.confirm button[value="confirm"]').click()
    await page.waitForURL(/#\/resources\/upstreams$/)
    await textOf(page.locator('#flash'), /Deleted upstreams "extra": published generation \d+/)
    assert.equal((await api('GET', '/upstreams/extra')).status, 404)
  })

  test('a new plugin is created through the form of the type picked', async () => {
    await open('new/plugins')
    await page.locator('#resource-name').fill('rid')
    await page.locator('#plugin-type').selectOption('request_id')
    await page.locator('.schema-form input[data-path="type"]').waitFor()
    assert.equal(await page.locator('.schema-form input[data-path="type"]').inputValue(), 'request_id')
    await page.locator('#save').click()
    await page.waitForURL(/#\/resources\/plugins\/rid$/)
    await textOf(page.locator('#flash'), /Created: published generation \d+/)
    assert.equal((await api('GET', '/plugins/rid')).body.type, 'request_id')
  })

  test('a read-only token sees the console but cannot write', async () => {
    await page.locator('#sign-out').click()
    await page.waitForURL(/#\/sign-in$/)
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'signing out clears the token')
    await page.locator('#token').fill(fx.viewerToken)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/#\/fleet$/)
    await textOf(page.locator('#role'), /read-only token/)

    await open(`resources/locations/api`)
    await page.locator('input[data-path="upstream"]').waitFor()
    assert.equal(await page.locator('#save').isDisabled(), true)
    assert.equal(await page.locator('#delete').isDisabled(), true)
    // A stale page that still offers the button gets the API's 403, shown as a read-only token.
    await page.locator('#save').evaluate((button) => {
      ;(button as unknown as { disabled: boolean }).disabled = false
    })
    await page.locator('#save').click()
    await textOf(page.locator('.result .notice.error'), /Read-only token/)

    await open(`versions`)
    await page.locator('#versions').waitFor()
    assert.equal(await page.locator('#versions button[data-action="rollback"]:enabled').count(), 0)
    await open(`config`)
    assert.equal(await page.locator('#save-config').isDisabled(), true)
    assert.deepEqual(fx.pageErrors, [], 'no script error or CSP violation in the whole session')
  })
})
