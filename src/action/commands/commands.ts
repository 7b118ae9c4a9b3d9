/**
 * Commands in comments: the trigger followed by one word alone, answered by kugetsu's reply
 * without opencode. The table is the one place a command is added.
 */
import * as core from '@actions/core'
import { formatIssueRef } from '../../refs.js'
import { marker } from '../conversation/report.js'
import { answerOnIssue } from '../stages/reply.js'
import type { RunContext, TurnRequest } from '../stages/context.js'
import type { Command } from './command.js'
import { helpText } from './help.js'
import { commandWord } from './parse.js'
import { resetText } from './reset.js'
import { statusText } from './status.js'

export const COMMANDS: readonly Command[] = [
  {
    name: 'status',
    summary:
      "the issue's session, turns, tokens and cost so far, its cache entry, base, branch and pull request",
    answer: statusText
  },
  {
    name: 'reset',
    summary:
      'forget the session: the next request starts a new one from the base, without the conversation so far',
    answer: resetText
  },
  {
    name: 'help',
    summary: 'this help',
    answer: async (_request, context) => helpText(context, COMMANDS)
  }
]

/** The command a comment is, or undefined for a request (manual runs are always requests). */
export function commandOf(request: TurnRequest, trigger: string): Command | undefined {
  if (request.source !== 'comment' || !request.comment) return undefined
  const names = COMMANDS.map((command) => command.name)
  const word = commandWord(request.comment.body, trigger, request.message, names)
  return COMMANDS.find((command) => command.name === word)
}

/** Runs a command: its answer as kugetsu's comment (marked, so it never triggers), and outputs. */
export async function runCommand(
  command: Command,
  request: TurnRequest,
  context: RunContext
): Promise<void> {
  core.info(`${formatIssueRef(request.ref)}: command ${command.name} (no model run)`)
  const text = await command.answer(request, context)
  await replyWithoutModel(request, command.name, text, context)
}

/**
 * kugetsu's own answer, no turn of the agent: a command's, or a request refused (`refusal`, then
 * also the skip reason). Its marker names `kind`, so it is never taken for a turn's reply.
 */
export async function replyWithoutModel(
  request: TurnRequest,
  kind: string,
  text: string,
  context: RunContext,
  refusal = false
): Promise<void> {
  const ref = formatIssueRef(request.ref)
  const body = `${text}\n${marker({ ref, command: kind })}`
  const comment = context.inputs.comment
    ? await answerOnIssue(request.ref.number, body, context)
    : undefined
  context.publish.setOutputs({
    skipped: refusal ? 'true' : 'false',
    'skip-reason': refusal ? text : '',
    'issue-ref': ref,
    response: text,
    'comment-id': comment?.id ?? '',
    'comment-url': comment?.url ?? ''
  })
  core.summary.addHeading(`kugetsu: ${kind} on ${ref}`, 3).addRaw(`\n${text}\n`, true)
  await context.publish.writeSummary()
}
