/**
 * A scripted model that makes the agent use opencode's tools: `WORK <name>` in the newest user
 * message (the last such word, since kugetsu may quote earlier requests before it) runs that
 * name's tool calls one after the other, then answers `done <name>: <every tool output>`, so a
 * reply proves what a tool saw.
 */
import type { Reply, ScriptContext } from './model-server.js'

export const WORK = 'WORK'

export interface ToolStep {
  tool: string
  input: Record<string, unknown>
}

export const write = (filePath: string, content: string): ToolStep => ({
  tool: 'write',
  input: { filePath, content }
})
export const read = (filePath: string): ToolStep => ({ tool: 'read', input: { filePath } })
export const bash = (command: string): ToolStep => ({
  tool: 'bash',
  input: { command, description: 'run a command' }
})

export interface ToolStepsOptions {
  /** Called with the name when a turn's first chat request arrives (before any tool ran). */
  onTurnStart?: (name: string) => void
}

export function toolStepsScript(
  steps: Map<string, ToolStep[]>,
  options: ToolStepsOptions = {}
): (context: ScriptContext) => Reply | undefined {
  return ({ request }) => {
    const last = request.userTexts.at(-1) ?? ''
    const name = [...last.matchAll(new RegExp(`${WORK} (\\S+)`, 'g'))].at(-1)?.[1]
    if (!name) return undefined
    const messages = request.body.messages ?? []
    const lastUser = messages.map((message) => message.role).lastIndexOf('user')
    const outputs = messages
      .slice(lastUser + 1)
      .filter((message) => message.role === 'tool')
      .map((message) =>
        typeof message.content === 'string' ? message.content : JSON.stringify(message.content)
      )
    if (outputs.length === 0) options.onTurnStart?.(name)
    const todo = steps.get(name) ?? []
    if (outputs.length < todo.length) return { type: 'tool', ...todo[outputs.length] }
    return { type: 'text', text: `done ${name}: ${outputs.join(' | ')}` }
  }
}
