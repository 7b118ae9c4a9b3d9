/**
 * The per-issue budgets (max-cost-per-issue, max-turns-per-issue): a request refused before the
 * model runs once a ceiling is reached, the cost a turn may still spend, and what a turn stopped
 * at the ceiling spent, kept in the ledger so the next request cannot spend it again.
 */
import * as core from '@actions/core'
import { KugetsuError } from '../../errors.js'
import type { OpencodeRunError } from '../../opencode/run-errors.js'
import { addTurn, spentSoFar } from '../../store/ledger.js'
import type { IssueRecord } from '../../store/types.js'
import { formatCost } from '../conversation/report.js'
import type { ActionInputs } from '../inputs.js'
import type { RunContext } from './context.js'
import { readIssueState } from './issue-record.js'
import { newerIssueState, saveIssueState, type IssueState } from './turn-state.js'
import type { Workspace } from './workspace.js'

type Budgets = Pick<ActionInputs, 'maxCostPerIssue' | 'maxTurnsPerIssue'>

function spentLine(record: IssueRecord | undefined): string {
  const spent = spentSoFar(record)
  const at = spent.partial ? 'at least ' : ''
  return `${at}${formatCost(spent.cost)} over ${record?.turns ?? 0} turn${record?.turns === 1 ? '' : 's'} (${at}${spent.tokens.input.toLocaleString('en-US')} tokens in / ${spent.tokens.output.toLocaleString('en-US')} out)`
}

/** Why a request on an issue with this record must not start, or undefined. */
export function budgetRefusal(
  ref: string,
  record: IssueRecord | undefined,
  budgets: Budgets
): string | undefined {
  const turns = record?.sessionId ? record.turns : 0
  const { maxTurnsPerIssue: maxTurns, maxCostPerIssue: maxCost } = budgets
  const spent = spentSoFar(record?.sessionId ? record : undefined)
  let reached: string | undefined
  if (maxTurns !== undefined && turns >= maxTurns) {
    reached = `${turns} turn${turns === 1 ? '' : 's'} of the ${maxTurns} allowed (\`max-turns-per-issue\`)`
  } else if (maxCost !== undefined && spent.cost >= maxCost) {
    reached = `${formatCost(spent.cost)} of the ${formatCost(maxCost)} allowed (\`max-cost-per-issue\`)`
  }
  if (!reached) return undefined
  const input = reached.includes('max-turns') ? 'max-turns-per-issue' : 'max-cost-per-issue'
  return `**kugetsu did not run the agent:** ${ref} has reached its budget: ${reached}. Spent so far: ${spentLine(record)}. To go on, raise \`${input}\` in the workflow.`
}

/** What the turn may still spend, or undefined without a cost ceiling. */
export function costLeft(record: IssueRecord | undefined, budgets: Budgets): number | undefined {
  if (budgets.maxCostPerIssue === undefined) return undefined
  return Math.max(0, budgets.maxCostPerIssue - spentSoFar(record).cost)
}

/** The refusal for a request on the issue, read from its cached record when a ceiling is set. */
export async function checkBudget(
  ref: string,
  issueNumber: number,
  context: RunContext
): Promise<string | undefined> {
  const { inputs } = context
  if (inputs.maxCostPerIssue === undefined && inputs.maxTurnsPerIssue === undefined)
    return undefined
  const { previous } = await readIssueState(ref, issueNumber, context)
  return budgetRefusal(ref, previous, inputs)
}

/**
 * A turn stopped at the cost ceiling: the issue keeps the session it had before it, with what
 * the turn spent added to its ledger and saved. Returns the error the run fails with.
 */
export async function keepStoppedTurn(
  ref: string,
  issueNumber: number,
  stopped: OpencodeRunError,
  state: IssueState,
  context: RunContext,
  workspace: Workspace
): Promise<KugetsuError> {
  const record = await workspace.store.getIssue(ref)
  const result = stopped.result
  let spent = record
  if (record?.sessionId && result) {
    spent = {
      ...record,
      ledger: addTurn(record, {
        turn: record.turns,
        at: new Date().toISOString(),
        tokens: result.tokens,
        cost: result.cost,
        stopped: 'budget'
      })
    }
    await workspace.store.putIssueRecord(spent)
    try {
      await saveIssueState(
        ref,
        issueNumber,
        spent,
        newerIssueState(ref, issueNumber, state, context, workspace),
        context,
        workspace
      )
    } catch (error) {
      core.warning(`could not save what the stopped turn spent: ${(error as Error).message}`)
    }
  }
  const limit = formatCost(context.inputs.maxCostPerIssue ?? 0)
  return new KugetsuError(
    'budget-exceeded',
    `the turn reached max-cost-per-issue (${limit}) and was stopped after spending ${formatCost(result?.cost ?? 0)}; ${ref} keeps the session it had before this turn. Spent so far: ${spentLine(spent)}. To go on, raise max-cost-per-issue in the workflow`,
    { cause: stopped }
  )
}
