/**
 * A radix tree of path prefixes, matched on any character boundary (as nginx does:
 * "/api" is a prefix of "/api", "/api/x" and "/apix"). Lookups walk the path once and
 * allocate nothing; candidates come longest prefix first by following parent links.
 */

/** The values stored for exactly one prefix, and the node of the next shorter prefix. */
export interface PrefixNode<T> {
  readonly parent: PrefixNode<T> | undefined
  readonly values: readonly T[]
}

/** Prefixes with values; insert at compile time, look up per request. */
export interface PrefixTree<T> {
  /** Stores `value` under `prefix` (several values per prefix keep insertion order). */
  insert(prefix: string, value: T): void
  /**
   * The node of the longest stored prefix of `path` (or an intermediate node above it);
   * walk `parent` links from it to visit every matching prefix, longest first.
   */
  deepest(path: string): PrefixNode<T>
}

interface TreeNode<T> {
  label: string
  parent: TreeNode<T> | undefined
  children: Map<number, TreeNode<T>>
  values: T[]
}

/** Creates an empty prefix tree (its root holds the "" prefix). */
export function createPrefixTree<T>(): PrefixTree<T> {
  const root = newNode<T>('', undefined)
  return {
    insert: (prefix, value) => insertAt(root, prefix, value),
    deepest: (path) => deepestNode(root, path),
  }
}

function newNode<T>(label: string, parent: TreeNode<T> | undefined): TreeNode<T> {
  return { label, parent, children: new Map(), values: [] }
}

function insertAt<T>(root: TreeNode<T>, prefix: string, value: T): void {
  let node = root
  let pos = 0
  while (pos < prefix.length) {
    const code = prefix.charCodeAt(pos)
    const child = node.children.get(code)
    if (child === undefined) {
      const leaf = newNode<T>(prefix.slice(pos), node)
      node.children.set(code, leaf)
      node = leaf
      break
    }
    const common = commonLength(child.label, prefix, pos)
    if (common < child.label.length) split(child, common)
    node = child
    pos += common
  }
  node.values.push(value)
}

/** Length of the common start of `label` and `text` read from `pos` (at least 1 here). */
function commonLength(label: string, text: string, pos: number): number {
  let i = 0
  while (i < label.length && pos + i < text.length && label.charCodeAt(i) === text.charCodeAt(pos + i)) i++
  return i
}

/**
 * Cuts `node`'s edge at `at`: the node keeps the upper part (so its parent's map stays
 * valid) and a new child takes the lower part with the old children and values.
 */
function split<T>(node: TreeNode<T>, at: number): void {
  const lower = newNode<T>(node.label.slice(at), node)
  lower.children = node.children
  lower.values = node.values
  for (const grandchild of lower.children.values()) grandchild.parent = lower
  node.label = node.label.slice(0, at)
  node.children = new Map([[lower.label.charCodeAt(0), lower]])
  node.values = []
}

function deepestNode<T>(root: TreeNode<T>, path: string): TreeNode<T> {
  let node = root
  let pos = 0
  while (pos < path.length) {
    const child = node.children.get(path.charCodeAt(pos))
    if (child === undefined || !path.startsWith(child.label, pos)) break
    node = child
    pos += child.label.length
  }
  return node
}
