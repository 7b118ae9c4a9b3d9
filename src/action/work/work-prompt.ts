/** What the agent is told of its worktree before the message: where it is, and what others pushed. */
import type { CheckedOut } from './checkout.js'

export function workPrompt(checkedOut: CheckedOut | undefined, news: string): string {
  if (!checkedOut) return ''
  const { plan } = checkedOut
  const where = checkedOut.branch
    ? `branch \`${checkedOut.branch}\``
    : `the head of pull request #${plan.checkout?.kind === 'pull' ? plan.checkout.number : plan.sessionNumber}`
  const lines = [
    plan.pushBranch
      ? `[kugetsu] The working directory is a checkout of ${where}. When your turn ends, kugetsu commits what you changed there and pushes it to \`${plan.pushBranch}\` (you cannot push yourself).`
      : `[kugetsu] The working directory is a checkout of ${where}. Nothing you change there is pushed.`
  ]
  if (news) lines.push(news)
  return lines.join('\n\n')
}
