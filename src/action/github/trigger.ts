/**
 * Finding the trigger (`/kugetsu` by default) in a comment. It counts only as a whole word in the
 * comment's own prose: never inside another word or path, a quoted reply (`>` lines), a fenced
 * code block or inline code, or an HTML comment.
 */

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function triggerPattern(trigger: string): RegExp {
  return new RegExp(`(^|[\\s(])(${escapeRegExp(trigger)})(?=$|[\\s.,:;!?)])`, 'i')
}

/** The comment with every region where a trigger must not count blanked out, offsets kept. */
function proseOnly(body: string): string {
  const blank = (match: string) => match.replace(/[^\n]/g, ' ')
  let text = body.replace(/<!--[\s\S]*?(?:-->|$)/g, blank)
  text = text.replace(
    /^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}\2[`~]*[ \t]*$|(?![\s\S]))/gm,
    blank
  )
  text = text.replace(/(`+)[^`\n]*?\1/g, blank)
  text = text.replace(/^[ \t]*>[^\n]*/gm, blank)
  return text
}

export interface TriggerMatch {
  /** The comment without the trigger, trimmed. */
  message: string
}

export function findTrigger(body: string, trigger: string): TriggerMatch | undefined {
  const normalized = body.replace(/\r\n?/g, '\n')
  const match = triggerPattern(trigger).exec(proseOnly(normalized))
  if (!match) return undefined
  const start = match.index + match[1].length
  const message = normalized.slice(0, start) + normalized.slice(start + match[2].length)
  return { message: message.trim() }
}
