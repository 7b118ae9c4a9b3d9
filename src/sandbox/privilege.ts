/**
 * Running the few commands that set up and tear down the agent's user (useradd, setfacl, chown,
 * kill): directly when kugetsu runs as root (containers, many self-hosted runners), else through
 * passwordless `sudo -n` (GitHub-hosted runners give the runner user that).
 */
import { execFile } from 'node:child_process'
import { KugetsuError } from '../errors.js'

export interface Privilege {
  /** How root is reached: this process is root, or sudo -n works for it. */
  via: 'root' | 'sudo'
  /** Runs `command` as root; rejects with its stderr when it fails. */
  run(command: string, args: string[]): Promise<string>
}

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

export function execCommand(command: string, args: string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0
        resolve({ code, stdout, stderr: stderr || (error && !stdout ? error.message : '') })
      }
    )
  })
}

function privilegeOf(via: 'root' | 'sudo'): Privilege {
  return {
    via,
    async run(command, args) {
      const result =
        via === 'root'
          ? await execCommand(command, args)
          : await execCommand('sudo', ['-n', '--', command, ...args])
      if (result.code === 127 || /command not found|ENOENT/.test(result.stderr)) {
        throw new KugetsuError(
          'sandbox-failed',
          `${command} is not installed (on Debian and Ubuntu: apt-get install ${command === 'setfacl' ? 'acl' : 'passwd'})`
        )
      }
      if (result.code !== 0) {
        const detail = result.stderr.trim().split('\n').pop() || `exit code ${result.code}`
        throw new KugetsuError('sandbox-failed', `${command} ${args[0] ?? ''}: ${detail}`)
      }
      return result.stdout
    }
  }
}

/** Root for this process, or why there is none. */
export async function findPrivilege(): Promise<Privilege | { unavailable: string }> {
  if (process.platform !== 'linux') {
    return { unavailable: `the agent's user sandbox needs Linux (this is ${process.platform})` }
  }
  if (process.getuid?.() === 0) return privilegeOf('root')
  const sudo = await execCommand('sudo', ['-n', 'true'])
  if (sudo.code === 0) return privilegeOf('sudo')
  return {
    unavailable:
      'kugetsu runs as neither root nor a user with passwordless sudo, so it cannot run the agent as another user'
  }
}
