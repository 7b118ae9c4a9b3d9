/**
 * Telling a command from a request: the trigger followed by a command word and nothing else
 * (case-insensitive). `/kugetsu status please fix` is a request like any other.
 */

/** The command word the comment consists of, lower-cased, when it is one of `names`. */
export function commandWord(
  body: string,
  trigger: string,
  message: string,
  names: readonly string[]
): string | undefined {
  const word = message.trim().toLowerCase()
  if (!names.includes(word)) return undefined
  const rest = body.trim()
  // The trigger first, then the word alone: `status /kugetsu` reads as prose, not a command.
  if (rest.slice(0, trigger.length).toLowerCase() !== trigger.toLowerCase()) return undefined
  return rest.slice(trigger.length).trim().toLowerCase() === word ? word : undefined
}
