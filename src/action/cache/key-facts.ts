/** Facts written into cache keys so that a server which lowercases keys loses nothing. */

/**
 * A fact as a key segment in which case means nothing: the cache servers of Gitea and Forgejo
 * lowercase keys, and a session id (`ses_…uhJlh5Qw…`) is case-sensitive. An uppercase letter is
 * written `.` and the letter, a `.` is doubled; anything else but letters, digits and `_` is `_`.
 */
export function caselessFact(fact: string): string {
  return fact
    .replace(/[^A-Za-z0-9_.]/g, '_')
    .replace(/[.A-Z]/g, (c) => (c === '.' ? '..' : `.${c.toLowerCase()}`))
}

/**
 * The fact a caseless segment was made from. Segments of released versions (mixed case, no `.`)
 * come back as they are.
 */
export function factFromKey(segment: string): string {
  return segment.replace(/\.([.a-z])/gi, (_, c: string) => (c === '.' ? '.' : c.toUpperCase()))
}
