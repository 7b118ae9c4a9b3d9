import type { IssueInfo } from '../github/event.js'

/**
 * The text the agent receives. The first turn of an issue carries the issue itself (title, URL,
 * author, body); later turns only the new message and who wrote it, since the session remembers.
 */
export function firstTurnPrompt(
  ref: string,
  issue: IssueInfo,
  author: string,
  message: string
): string {
  const kind = issue.isPullRequest ? 'pull request' : 'issue'
  const body = issue.body.trim() === '' ? '(no description)' : issue.body.trim()
  return [
    `You are now working on GitHub ${kind} ${ref}.`,
    `Title: ${issue.title}`,
    `URL: ${issue.url}`,
    `Opened by: @${issue.author}`,
    '',
    'Description:',
    body,
    '',
    '---',
    `Message from @${author}:`,
    message
  ].join('\n')
}

export function laterTurnPrompt(author: string, message: string): string {
  return `Message from @${author}:\n${message}`
}
