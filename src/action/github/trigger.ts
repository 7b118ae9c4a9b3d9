/**
 * Finding the trigger (`/kugetsu` by default) in a comment. It counts only as a whole word in the
 * comment's own prose: never inside another word or path, a quoted reply (`>` lines, also inside
 * list items), a fenced or indented code block, inline code, an HTML comment or code element,
 * or a link (its text, its target, an autolink or a reference definition). Quoted, shown or
 * linked text is someone else's words or an example, not a request.
 */

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function triggerPattern(trigger: string): RegExp {
  return new RegExp(`(^|[\\s(])(${escapeRegExp(trigger)})(?=$|[\\s.,:;!?)])`, 'i')
}

const blank = (match: string) => match.replace(/[^\n]/g, ' ')

/**
 * Indented code: lines indented by four spaces or a tab that follow a blank line (or open the
 * comment), with the blank lines between them. An indented line right under prose continues
 * that paragraph, so it stays.
 */
function blankIndentedCode(text: string): string {
  let afterBlank = true
  let inCode = false
  return text
    .split('\n')
    .map((line) => {
      if (line.trim() === '') {
        afterBlank = true
        return line
      }
      inCode = /^(?: {4}|[ ]{0,3}\t)/.test(line) && (afterBlank || inCode)
      afterBlank = false
      return inCode ? blank(line) : line
    })
    .join('\n')
}

/** The comment with every region where a trigger must not count blanked out, offsets kept. */
function proseOnly(body: string): string {
  let text = body.replace(/<!--[\s\S]*?(?:-->|$)/g, blank)
  text = text.replace(
    /^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}\2[`~]*[ \t]*$|(?![\s\S]))/gm,
    blank
  )
  text = blankIndentedCode(text)
  // An element left open runs to the end, as GitHub renders it.
  text = text.replace(
    /<(pre|code|samp|kbd|tt|textarea|script|style|xmp|listing)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|(?![\s\S]))/gi,
    blank
  )
  text = text.replace(/(`+)[^`\n]*?\1/g, blank)
  // Quotes, also after list markers (`- > `, `1. > `).
  text = text.replace(/^[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*>[^\n]*/gm, blank)
  // Reference definitions, then links and images whole (text and target), then autolinks.
  text = text.replace(/^ {0,3}\[[^\]\n]+\]:[^\n]*/gm, blank)
  text = text.replace(/!?\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])/g, blank)
  text = text.replace(/<[A-Za-z][A-Za-z0-9+.-]*:[^<>\n]*>/g, blank)
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
