/**
 * A tombstone: the record of an issue whose session was forgotten (destroy, reset, a closed
 * issue), saved as the newest entry of its stream so that forgetting needs the cache protocol alone.
 */
import { KugetsuError } from '../../errors.js'
import {
  FORGET_REASONS,
  type ForgetReason,
  type Forgetting,
  type IssueRecord
} from '../../store/types.js'

/** The record a tombstone entry holds: no session, and who forgot it, when and why. */
export function tombstoneRecord(ref: string, forgotten: Forgetting): IssueRecord {
  return {
    ref,
    sessionId: null,
    baseSessionId: '',
    createdAt: forgotten.at,
    updatedAt: forgotten.at,
    turns: 0,
    forgotten
  }
}

const MAX_LOGIN = 100

/**
 * The forgetting a restored record holds, if it is a tombstone, checked field by field: an entry
 * anyone could have planted decides nothing until it reads as one kugetsu writes. `key` names the
 * entry in the error.
 */
export function forgettingOf(
  record: IssueRecord,
  ref: string,
  key: string
): Forgetting | undefined {
  const value: unknown = record.forgotten
  if (value === undefined) return undefined
  const refuse = (problem: string) =>
    new KugetsuError(
      'corrupt-state',
      `the newest Actions cache entry of ${ref} (${key}) is a tombstone kugetsu cannot read (${problem}); nothing was changed. kugetsu never writes such an entry: delete it (gh cache delete ${key}) or run command: destroy for ${ref}, then try again`
    )
  if (record.ref !== ref) throw refuse('it is the tombstone of another issue')
  if (record.sessionId !== null) throw refuse('it holds a session')
  const checked = checkForgetting(value)
  if (typeof checked === 'string') throw refuse(checked)
  return checked
}

/** A forgetting read back from the cache (a tombstone, the session index), or what is wrong with it. */
export function checkForgetting(value: unknown): Forgetting | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return '"forgotten" is not an object'
  }
  const { at, by, reason } = value as Record<string, unknown>
  if (typeof at !== 'string' || !/^\d{4}-\d\d-\d\dT/.test(at) || Number.isNaN(Date.parse(at))) {
    return '"at" is not a time'
  }
  if (
    typeof by !== 'string' ||
    by.length === 0 ||
    by.length > MAX_LOGIN ||
    /[\p{Cc}\p{Cf}\s]/u.test(by)
  ) {
    return '"by" is not a login'
  }
  if (!FORGET_REASONS.includes(reason as ForgetReason)) return '"reason" is unknown'
  return { at, by, reason: reason as ForgetReason }
}

/** Comments made after the session was forgotten: all a fresh session may be given of the thread. */
export function commentsSince<T extends { createdAt: string }>(
  comments: T[],
  forgotten: Forgetting
): T[] {
  const since = Date.parse(forgotten.at)
  return comments.filter((comment) => Date.parse(comment.createdAt) > since)
}
