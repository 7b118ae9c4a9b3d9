/**
 * How the drivers start opencode and stop it together with everything it started. Both drivers
 * go through a Launcher, so the same code runs opencode as this process's user (localLauncher) or
 * contained as another OS user (see src/sandbox/).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { groupAlive, signalGroups, treeGroups } from './process.js'

export interface LaunchOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  stdio: StdioOptions
}

export interface Launcher {
  /** Starts `command` in a process group of its own. */
  spawn(command: string, args: string[], options: LaunchOptions): ChildProcess
  /**
   * Stops the process `pid` and everything it started: SIGTERM, then SIGKILL after `graceMs` if
   * `exited` (the process's end) has not come by then, and SIGKILL to whatever it left behind once
   * it has. Resolves after that last step.
   */
  stopTree(pid: number, exited: Promise<void>, graceMs: number): Promise<void>
}

/**
 * opencode as this process's user. opencode's bash tool starts each command in a session of its
 * own, so a signal to opencode's group misses them: their groups are found and signalled too
 * (process.ts).
 */
export const localLauncher: Launcher = {
  spawn: (command, args, options) => spawn(command, args, { ...options, detached: true }),
  async stopTree(pid, exited, graceMs) {
    const groups = await treeGroups(pid).catch(() => [pid])
    signalGroups(groups, 'SIGTERM')
    const force = setTimeout(() => signalGroups(groups, 'SIGKILL'), graceMs)
    await exited
    clearTimeout(force)
    signalGroups(groups.filter(groupAlive), 'SIGKILL')
  }
}
