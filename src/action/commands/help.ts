/** `help`: how to ask kugetsu, its commands, and this workflow's trigger and budgets. */
import { formatCost } from '../conversation/report.js'
import type { RunContext } from '../stages/context.js'
import type { CommandInfo } from './command.js'

export function helpText(context: RunContext, commands: readonly CommandInfo[]): string {
  const { trigger, maxCostPerIssue, maxTurnsPerIssue, minPermission } = context.inputs
  const cost =
    maxCostPerIssue === undefined ? 'no ceiling' : `${formatCost(maxCostPerIssue)} per issue`
  const turns = maxTurnsPerIssue === undefined ? 'no ceiling' : `${maxTurnsPerIssue} per issue`
  return [
    '**kugetsu help**',
    '',
    `Ask with a comment that contains \`${trigger}\` followed by your request, e.g. \`${trigger} why does the build fail?\`. Each issue keeps its own session: later requests continue it. \`${trigger}\` counts only in your own text, not in quotes, code or links.`,
    '',
    `Commands (\`${trigger}\` and the word alone, answered without running the model):`,
    ...commands.map((command) => `- \`${trigger} ${command.name}\`: ${command.summary}`),
    '',
    `Who may ask: people with ${minPermission} permission or more (and anyone the workflow lists).`,
    '',
    `Budgets: cost ${cost} (\`max-cost-per-issue\`), turns ${turns} (\`max-turns-per-issue\`).`
  ].join('\n')
}
