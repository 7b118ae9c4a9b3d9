/**
 * `status`: what kugetsu holds for the issue, read from its cached record (no opencode): the
 * session, what it spent against the budgets, when it started, its cache entry's last use and
 * earliest eviction, its base, and its branch and pull request once they exist.
 */
import * as core from '@actions/core'
import { errorMessage } from '../../errors.js'
import { formatIssueRef, parseIssueRef } from '../../refs.js'
import { spentSoFar } from '../../store/ledger.js'
import type { IssueRecord } from '../../store/types.js'
import { formatCost, summaryTable } from '../conversation/report.js'
import type { CacheEntryInfo } from '../sessions/listing.js'
import { runKeys, type RunContext, type TurnRequest } from '../stages/context.js'
import { readIssueState } from '../stages/issue-record.js'
import { planTurnWork } from '../stages/work.js'

/** GitHub evicts an Actions cache entry not used for 7 days. */
export const CACHE_UNUSED_DAYS = 7

const day = 24 * 60 * 60_000

function when(iso: string | undefined): string {
  const time = iso ? Date.parse(iso) : Number.NaN
  if (Number.isNaN(time)) return 'unknown'
  return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

const ofCeiling = (value: string, ceiling: string | undefined, input: string) =>
  ceiling === undefined ? `${value} (no ceiling)` : `${value} of ${ceiling} (\`${input}\`)`

/** The stream's entries, or undefined when they cannot be listed (the token lacks actions: read). */
async function entriesOf(prefix: string, context: RunContext) {
  try {
    return await context.github.cacheEntries(prefix)
  } catch (error) {
    core.info(`could not list the cache entries of ${prefix}: ${errorMessage(error)}`)
    return undefined
  }
}

function cacheRow(
  restoredKey: string | undefined,
  entries: CacheEntryInfo[] | undefined
): [string, string] {
  if (!restoredKey) return ['Cache entry', 'none']
  const entry = entries?.find((e) => e.key.toLowerCase() === restoredKey.toLowerCase())
  // Reading the record for this answer was a use: the entry is kept at least 7 days from now.
  const until = when(new Date(Date.now() + CACHE_UNUSED_DAYS * day).toISOString())
  const used = entry ? `last used ${when(entry.lastAccessedAt)} before this status; ` : ''
  return [
    'Cache entry',
    `\`${restoredKey}\`: ${used}GitHub may evict it once unused for ${CACHE_UNUSED_DAYS} days, so not before ${until} (or sooner if the repository's cache is full)`
  ]
}

async function workRows(record: IssueRecord, context: RunContext): Promise<[string, string][]> {
  const branch = record.work?.branch
  if (!branch) return [['Branch', 'none yet']]
  const rows: [string, string][] = [['Branch', `\`${branch}\``]]
  try {
    const [pull] = await context.github.pullRequestsFrom(branch, 'all')
    rows.push([
      'Pull request',
      pull
        ? `${pull.htmlUrl} (${pull.merged ? 'merged' : pull.draft ? 'draft' : pull.state})`
        : 'none yet'
    ])
  } catch (error) {
    core.info(`could not look up the pull request of ${branch}: ${errorMessage(error)}`)
  }
  return rows
}

export async function statusText(request: TurnRequest, context: RunContext): Promise<string> {
  const { inputs } = context
  const plan = request.issue
    ? await planTurnWork(request, request.issue, context)
    : { sessionNumber: request.ref.number }
  const ref = formatIssueRef(parseIssueRef(`#${plan.sessionNumber}`, context.repo))
  const entries = await entriesOf(runKeys(context).issueStream(String(plan.sessionNumber)), context)
  const state = await readIssueState(ref, plan.sessionNumber, context)
  const { restoredKey, previous: record, forgotten } = state
  if (!record?.sessionId) {
    const why = forgotten
      ? `The session was forgotten (${forgotten.reason} by ${forgotten.by}, ${when(forgotten.at)})`
      : 'No session yet'
    return [
      `**kugetsu status** of ${ref}`,
      '',
      `${why}: the next request starts one, forked from the base session.`
    ].join('\n')
  }
  const spent = spentSoFar(record)
  const at = spent.partial ? 'at least ' : ''
  const rows: [string, string][] = [
    ['Session', `\`${record.sessionId}\``],
    [
      'Turns',
      ofCeiling(
        String(record.turns),
        inputs.maxTurnsPerIssue === undefined ? undefined : String(inputs.maxTurnsPerIssue),
        'max-turns-per-issue'
      )
    ],
    [
      'Tokens',
      `${at}${spent.tokens.input.toLocaleString('en-US')} in / ${spent.tokens.output.toLocaleString('en-US')} out`
    ],
    [
      'Cost',
      ofCeiling(
        `${at}${formatCost(spent.cost)}`,
        inputs.maxCostPerIssue === undefined ? undefined : formatCost(inputs.maxCostPerIssue),
        'max-cost-per-issue'
      )
    ],
    ['Started', when(record.createdAt)],
    ['Last turn', when(record.updatedAt)],
    cacheRow(restoredKey, entries),
    ['Base', `session \`${record.baseSessionId}\`, model ${inputs.model || "opencode's default"}`],
    ...(await workRows(record, context))
  ]
  return [`**kugetsu status** of ${ref}`, '', summaryTable(rows)].join('\n')
}
