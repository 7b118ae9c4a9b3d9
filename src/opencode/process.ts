/**
 * Killing an opencode process and everything it started.
 *
 * opencode runs in its own process group (spawned detached), but its bash tool starts each command
 * in a new session of its own, so a signal to opencode's group does not reach them, and opencode
 * does not kill them when it is terminated (verified with 1.18.33: a `sleep` started by the bash
 * tool outlives a SIGTERM to opencode's group). So before signalling, kugetsu lists the
 * descendants of the opencode process and signals their process groups as well.
 */
import { execFile } from 'node:child_process'
import { lstat, readdir, readFile } from 'node:fs/promises'

export interface ProcessInfo {
  pid: number
  ppid: number
  pgid: number
  /** One-letter state where known (`Z` for a zombie: dead, not yet reaped). */
  state?: string
  /** Its effective user, where known. */
  uid?: number
}

async function fromProc(): Promise<ProcessInfo[] | undefined> {
  let entries: string[]
  try {
    entries = await readdir('/proc')
  } catch {
    return undefined
  }
  const list: ProcessInfo[] = []
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        try {
          const [stat, owner] = await Promise.all([
            readFile(`/proc/${entry}/stat`, 'utf8'),
            // /proc/<pid> belongs to the process's effective user
            lstat(`/proc/${entry}`)
          ])
          // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
          list.push({
            pid: Number(entry),
            ppid: Number(fields[1]),
            pgid: Number(fields[2]),
            state: fields[0],
            uid: owner.uid
          })
        } catch {
          // the process is gone already
        }
      })
  )
  return list
}

function fromPs(): Promise<ProcessInfo[]> {
  return new Promise((resolve) => {
    execFile('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat=,uid='], (error, stdout) => {
      if (error) return resolve([])
      const list: ProcessInfo[] = []
      for (const line of stdout.split('\n')) {
        const [pid, ppid, pgid, stat, uid] = line.trim().split(/\s+/)
        const info = {
          pid: Number(pid),
          ppid: Number(ppid),
          pgid: Number(pgid),
          state: stat?.[0],
          uid: uid === undefined ? undefined : Number(uid)
        }
        if (info.pid && !Number.isNaN(info.ppid) && !Number.isNaN(info.pgid)) list.push(info)
      }
      resolve(list)
    })
  })
}

/** Every process on the machine that we can see (empty when neither /proc nor ps works). */
export async function listProcesses(): Promise<ProcessInfo[]> {
  if (process.platform === 'win32') return []
  return (await fromProc()) ?? (await fromPs())
}

/** The descendants of `root` (not `root` itself). */
export function descendantsOf(root: number, processes: ProcessInfo[]): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>()
  for (const info of processes) {
    const list = children.get(info.ppid) ?? []
    list.push(info)
    children.set(info.ppid, list)
  }
  const out: ProcessInfo[] = []
  const queue = [root]
  const seen = new Set<number>([root])
  while (queue.length) {
    const pid = queue.shift() as number
    for (const child of children.get(pid) ?? []) {
      if (seen.has(child.pid)) continue
      seen.add(child.pid)
      out.push(child)
      queue.push(child.pid)
    }
  }
  return out
}

/** Sends a signal to a process group; false when it does not exist (any more). */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/** True while any process of the group is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Processes of a group that are alive (zombies, dead but not yet reaped, do not count). */
export async function liveGroupMembers(pgid: number): Promise<ProcessInfo[]> {
  return (await listProcesses()).filter((info) => info.pgid === pgid && info.state !== 'Z')
}

/**
 * The process groups to signal to stop `leader` (a detached child, so its pid is its group id) and
 * everything it started: its own group first, then the groups of its descendants.
 */
export async function treeGroups(leader: number): Promise<number[]> {
  const groups = [leader]
  for (const info of descendantsOf(leader, await listProcesses())) {
    if (info.pgid > 1 && !groups.includes(info.pgid) && info.pgid !== process.pid) {
      groups.push(info.pgid)
    }
  }
  return groups
}

export function signalGroups(groups: number[], signal: NodeJS.Signals): void {
  for (const group of groups) signalGroup(group, signal)
}
