/** What a command is: its word, a line for `help`, and the reply it answers with. */
import type { RunContext, TurnRequest } from '../stages/context.js'

export interface CommandInfo {
  /** The word after the trigger, lower-case. */
  name: string
  /** One line for `help`. */
  summary: string
}

export interface Command extends CommandInfo {
  /** The reply's text (Markdown), worked out without opencode. */
  answer(request: TurnRequest, context: RunContext): Promise<string>
}
