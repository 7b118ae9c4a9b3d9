import { KugetsuError } from '../../errors.js'

/**
 * Cleaning text written by others (comments, issue bodies) before an agent reads it. On a public
 * repository anyone can write text that a human reviewer cannot see but a model reads: HTML
 * comments (hidden when GitHub renders Markdown), invisible format characters, bidirectional
 * overrides that make the displayed text differ from the logical one, Unicode tag characters
 * ("ASCII smuggling") and runs of variation selectors ("emoji smuggling"). `sanitizeText` removes
 * all of them while keeping ordinary prose, code, CJK, right-to-left scripts and emoji intact.
 *
 * What is removed (code points are those of the running Node's Unicode data):
 *
 * - HTML comments `<!-- ... -->`, wherever they are (also inside code blocks: our idea of a code
 *   block must never be looser than GitHub's, so none is trusted), and an unterminated `<!--` with
 *   everything after it. `<!-->` does not close a comment here (it does in CommonMark); removing
 *   too much is safe, removing too little is not. The result never contains `<!--`, so text cannot
 *   be made to carry kugetsu's hidden marker.
 * - Every format character (general category Cf) and every Default_Ignorable_Code_Point, which
 *   includes: soft hyphen U+00AD, combining grapheme joiner U+034F, Arabic letter mark U+061C, the
 *   Cf number signs U+0600–U+0605, U+06DD, U+070F, U+0890–U+0891, U+08E2, U+110BD, U+110CD, Khmer
 *   inherent vowels U+17B4–U+17B5, zero-width space U+200B, LRM/RLM U+200E–U+200F, bidi
 *   embeddings and overrides U+202A–U+202E, word joiner and invisible operators U+2060–U+2064,
 *   bidi isolates U+2066–U+2069, deprecated format characters U+206A–U+206F, BOM / zero-width
 *   no-break space U+FEFF, interlinear annotation U+FFF9–U+FFFB, Egyptian hieroglyph, shorthand
 *   and musical format controls, tag characters U+E0000–U+E007F, variation selectors U+FE00–U+FE0F
 *   and U+E0100–U+E01EF, and the rest of U+E0000–U+E0FFF — except in the contexts below.
 * - Control characters (Cc) other than tab and line feed: NUL, escape (so no terminal escape
 *   sequences reach logs), DEL, C1 controls. Lone UTF-16 surrogates.
 *
 * What is kept, because real text needs it (each only in a context where it has a visible job,
 * so none can be strung into an invisible payload):
 *
 * - ZWJ U+200D inside an emoji ZWJ sequence: after an Extended_Pictographic character (optionally
 *   followed by U+FE0F or a skin-tone modifier) and before another (👩‍💻, 🏳️‍🌈, 🧑🏽‍🚀).
 * - ZWNJ U+200C and ZWJ U+200D between two letters or marks of a script whose spelling needs them
 *   (Arabic, Syriac, N'Ko, Mandaic, Thaana, Mongolian, and the Brahmic scripts of South and
 *   Southeast Asia from Devanagari to Sinhala, Myanmar, Khmer, Balinese, Javanese), e.g. Persian "می‌خواهم" or Devanagari half forms. In Latin, CJK and other text they go.
 * - Emoji / text presentation selectors U+FE0E and U+FE0F directly after an Emoji character (one
 *   per character, so ❤️ and keycaps 1️⃣ survive but runs of selectors do not). All other
 *   variation selectors are removed: they only choose a glyph variant, and they are the carrier of
 *   "variation selector smuggling".
 * - Mongolian free variation selectors U+180B–U+180D, U+180F directly after a Mongolian letter,
 *   and the Mongolian vowel separator U+180E between two Mongolian letters.
 * - Hangul fillers U+115F / U+1160 only inside a conjoining jamo syllable (U+115F before a vowel
 *   jamo, U+1160 after a leading consonant jamo); U+3164 and U+FFA0 always go.
 * - The tag sequences of the three RGI subdivision flags (England, Scotland, Wales); any other tag
 *   character goes, leaving the plain black flag.
 *
 * Also: CRLF and lone CR become LF, and U+2028 / U+2029 (line / paragraph separator) become LF.
 * Nothing else changes: no Unicode normalisation, ordinary spaces (also NBSP, ideographic space)
 * stay. The function is idempotent.
 *
 * Not covered (Markdown that renders invisibly without comments, such as link reference
 * definitions `[x]: # "hidden"`, or collapsed `<details>`): such text is visible in the source a
 * maintainer edits, and authorisation, not sanitisation, decides who may address the agent.
 */

/** The longest message a single `/kugetsu` comment or manual run may carry, in characters. */
export const MAX_MESSAGE_LENGTH = 20_000

const ZWNJ = 0x200c
const ZWJ = 0x200d
const VS15 = 0xfe0e
const VS16 = 0xfe0f
const BLACK_FLAG = 0x1f3f4
const CANCEL_TAG = 0xe007f

/** Characters removed unless a rule below keeps them. */
const INVISIBLE = /^[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Cs}]$/u
/** Control characters other than tab and line feed (CR is normalised before). */
const CONTROL = /^[\p{Cc}]$/u
/** Whether a text has anything stripInvisible would look at. */
const ANY_SUSPECT = /[^\t\n\P{Cc}]|[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Cs}]/u
const PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u
const EMOJI = /^\p{Emoji}$/u
const SKIN_TONE = /^[\u{1F3FB}-\u{1F3FF}]$/u
const JOINING_SCRIPT = new RegExp(
  `^(?=[\\p{L}\\p{M}])[${[
    'Arabic',
    'Syriac',
    'Nko',
    'Mandaic',
    'Thaana',
    'Mongolian',
    'Devanagari',
    'Bengali',
    'Gurmukhi',
    'Gujarati',
    'Oriya',
    'Tamil',
    'Telugu',
    'Kannada',
    'Malayalam',
    'Sinhala',
    'Myanmar',
    'Khmer',
    'Balinese',
    'Javanese'
  ]
    .map((script) => `\\p{scx=${script}}`)
    .join('')}]$`,
  'u'
)
const MONGOLIAN_LETTER = /^(?=\p{L})\p{scx=Mongolian}$/u
const LEADING_JAMO = /^[\u1100-\u115E\uA960-\uA97C]$/u
const VOWEL_JAMO = /^[\u1161-\u11A7\uD7B0-\uD7C6]$/u

/** The tag spellings of the RGI subdivision flags: 🏴 + tags + cancel tag. */
const SUBDIVISION_FLAGS = ['gbeng', 'gbsct', 'gbwls'].map((code) =>
  [BLACK_FLAG, ...Array.from(code, (c) => 0xe0000 + c.charCodeAt(0)), CANCEL_TAG].join(',')
)

const charOf = (cp: number | undefined) => (cp === undefined ? '' : String.fromCodePoint(cp))
const is = (pattern: RegExp, cp: number | undefined) => cp !== undefined && pattern.test(charOf(cp))

function subdivisionFlagAt(cps: number[], i: number): number {
  if (cps[i] !== BLACK_FLAG) return 0
  for (const flag of SUBDIVISION_FLAGS) {
    const length = flag.split(',').length
    if (cps.slice(i, i + length).join(',') === flag) return length
  }
  return 0
}

function emojiZwj(cps: number[], i: number): boolean {
  let before = i - 1
  if (cps[before] === VS16 || is(SKIN_TONE, cps[before])) before -= 1
  return is(PICTOGRAPHIC, cps[before]) && is(PICTOGRAPHIC, cps[i + 1])
}

/** Whether the invisible character at `i` does a visible job where it stands. */
function keepInvisible(cps: number[], i: number): boolean {
  const cp = cps[i]
  const prev = cps[i - 1]
  const next = cps[i + 1]
  switch (cp) {
    case ZWJ:
      return emojiZwj(cps, i) || (is(JOINING_SCRIPT, prev) && is(JOINING_SCRIPT, next))
    case ZWNJ:
      return is(JOINING_SCRIPT, prev) && is(JOINING_SCRIPT, next)
    case VS15:
    case VS16:
      return is(EMOJI, prev)
    case 0x180b:
    case 0x180c:
    case 0x180d:
    case 0x180f:
      return is(MONGOLIAN_LETTER, prev)
    case 0x180e:
      return is(MONGOLIAN_LETTER, prev) && is(MONGOLIAN_LETTER, next)
    case 0x115f:
      return is(VOWEL_JAMO, next)
    case 0x1160:
      return is(LEADING_JAMO, prev)
    default:
      return false
  }
}

function stripInvisible(text: string): string {
  if (!ANY_SUSPECT.test(text)) return text
  const cps = Array.from(text, (c) => c.codePointAt(0) as number)
  let out = ''
  for (let i = 0; i < cps.length; i++) {
    const flag = subdivisionFlagAt(cps, i)
    if (flag > 0) {
      out += String.fromCodePoint(...cps.slice(i, i + flag))
      i += flag - 1
      continue
    }
    const cp = cps[i]
    if (cp === 0x09 || cp === 0x0a) {
      out += charOf(cp)
      continue
    }
    if (is(CONTROL, cp)) continue
    if (is(INVISIBLE, cp) && !keepInvisible(cps, i)) continue
    out += charOf(cp)
  }
  return out
}

/**
 * Removes HTML comments in one pass, such that the result never contains `<!--`: the output is
 * only ever appended to, or cut back by the `<!--` just completed, so an opener formed by joining
 * the text on both sides of a removed comment is caught as well.
 */
function stripComments(text: string): string {
  if (!text.includes('<!--')) return text
  const out: string[] = []
  const opened = () => {
    const n = out.length
    return (
      n >= 4 && out[n - 4] === '<' && out[n - 3] === '!' && out[n - 2] === '-' && out[n - 1] === '-'
    )
  }
  let i = 0
  while (i < text.length) {
    out.push(text[i])
    i += 1
    if (opened()) {
      out.length -= 4
      const end = text.indexOf('-->', i)
      i = end === -1 ? text.length : end + 3
    }
  }
  return out.join('')
}

function normalizeLineBreaks(text: string): string {
  return text.replace(/\r\n?|[\u2028\u2029]/g, '\n')
}

/** The text without hidden content or invisible characters; see the module comment. */
export function sanitizeText(text: string): string {
  let current = normalizeLineBreaks(text)
  // Each round only removes characters, so this ends; almost always after one or two rounds.
  for (;;) {
    const next = stripComments(stripInvisible(current))
    if (next === current) return next
    current = next
  }
}

/** Length in characters (code points), as a person counts them: an emoji or a kanji is one. */
export function characterCount(text: string): number {
  let count = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1)
      if (low >= 0xdc00 && low <= 0xdfff) i += 1
    }
    count += 1
  }
  return count
}

/**
 * Refuses a message longer than MAX_MESSAGE_LENGTH characters (check it after sanitizeText, so
 * stripped content does not count). Returns the message.
 */
export function checkMessageLength(message: string, limit: number = MAX_MESSAGE_LENGTH): string {
  // No character is more than two UTF-16 units, so short strings need no counting.
  if (message.length <= limit) return message
  const length = characterCount(message)
  if (length > limit) {
    throw new KugetsuError(
      'invalid-input',
      `the message is ${length.toLocaleString('en-US')} characters long; the limit is ${limit.toLocaleString('en-US')}`
    )
  }
  return message
}
