/**
 * What a parser sees of a framed prompt: every start or end tag of kugetsu's blocks, anywhere in
 * the text, and the blocks they make. Used to prove that hostile text adds no tag of its own.
 */
export interface FrameTag {
  closing: boolean
  name: string
  attributes: Record<string, string>
  /** Offsets of the tag in the text. */
  start: number
  end: number
}

export interface ParsedBlock {
  name: string
  attributes: Record<string, string>
  /** The text between the tags, without the line breaks kugetsu puts around it. */
  content: string
}

/** Tags spelled any way a lenient reader might accept: any case, spaces, a slash. */
const TAG = /<\s*(\/?)\s*(untrusted-text|request-text)\b([^>]*)>/gi
const ATTRIBUTE = /([\w-]+)\s*=\s*"([^"]*)"/g

export function frameTags(text: string): FrameTag[] {
  return [...text.matchAll(TAG)].map((match) => ({
    closing: match[1] === '/',
    name: match[2].toLowerCase(),
    attributes: Object.fromEntries([...match[3].matchAll(ATTRIBUTE)].map((a) => [a[1], a[2]])),
    start: match.index ?? 0,
    end: (match.index ?? 0) + match[0].length
  }))
}

/**
 * The blocks of a prompt, when its tags pair up strictly (start, end, start, end...), each pair
 * of the same name and carrying `nonce`; throws otherwise.
 */
export function parseBlocks(text: string, nonce: string): ParsedBlock[] {
  const tags = frameTags(text)
  if (tags.length % 2 !== 0) throw new Error(`odd number of tags: ${tags.length}`)
  const blocks: ParsedBlock[] = []
  for (let i = 0; i < tags.length; i += 2) {
    const [open, close] = [tags[i], tags[i + 1]]
    if (open.closing || !close.closing || open.name !== close.name) {
      throw new Error(`tags do not pair at ${open.start}: ${text.slice(open.start, close.end)}`)
    }
    if (open.attributes.nonce !== nonce || close.attributes.nonce !== nonce) {
      throw new Error(`a tag without the turn's nonce at ${open.start}`)
    }
    const content = text.slice(open.end, close.start).replace(/^\n/, '').replace(/\n$/, '')
    blocks.push({ name: open.name, attributes: open.attributes, content })
  }
  return blocks
}

/** The text outside every block (kugetsu's own words). */
export function outsideBlocks(text: string): string {
  const tags = frameTags(text)
  let out = ''
  let at = 0
  for (let i = 0; i < tags.length; i += 2) {
    out += text.slice(at, tags[i].start)
    at = tags[i + 1]?.end ?? text.length
  }
  return out + text.slice(at)
}

/**
 * The request of a framed prompt (the content of its last request-text block), or the whole text
 * when it has none (the base prompt): what a scripted model should act on, since a prompt also
 * carries other people's earlier words.
 */
export function requestText(prompt: string): string {
  const tags = frameTags(prompt)
  let open = tags.length - 1
  while (open >= 0 && (tags[open].closing || tags[open].name !== 'request-text')) open -= 1
  const close = tags[open + 1]
  if (open < 0 || !close?.closing) return prompt
  return prompt.slice(tags[open].end, close.start).replace(/^\n/, '').replace(/\n$/, '')
}

/** The end of a prompt whose request is `message` from `author`. */
export function endsWithRequest(author: string, message: string): RegExp {
  const escaped = message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(
    `Message from @${author} \\(the request of this turn\\):\\n<request-text nonce="[0-9a-f]{24}" author="${author}">\\n${escaped}\\n</request-text nonce="[0-9a-f]{24}">$`
  )
}
