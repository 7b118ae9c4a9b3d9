/**
 * What the agent's new home is given so opencode fetches nothing at start, and how it is made
 * there (with a recording stand-in for root).
 */
import { readFile } from 'node:fs/promises'
import { globalConfigDir, offlineDefaults, opencodeHomeSeed } from '../src/opencode/fresh-home.js'
import type { Privilege } from '../src/sandbox/privilege.js'
import { seedHome } from '../src/sandbox/home-seed.js'

const user = { name: 'kugetsu-0a1b2c3d', uid: 1234, gid: 1235, home: '/home/kugetsu-0a1b2c3d' }

/** Root as a list of the commands it was asked to run; `install` sources are read at once. */
function recordingPrivilege() {
  const commands: { command: string; args: string[]; source?: string }[] = []
  const privilege: Privilege = {
    via: 'root',
    async run(command, args) {
      const isCopy = command === 'install' && args[0] !== '-d'
      const source = isCopy ? await readFile(args[args.length - 2], 'utf8') : undefined
      commands.push({ command, args, source })
      return ''
    }
  }
  return { privilege, commands }
}

describe('opencodeHomeSeed', () => {
  it('gives the global config dir a node_modules and a lock whose root holds the plugin package', () => {
    const seed = opencodeHomeSeed('1.18.33')
    expect(seed.dirs).toEqual(['.config', '.config/opencode', '.config/opencode/node_modules'])
    const [lock] = seed.files
    expect(lock.path).toBe('.config/opencode/package-lock.json')
    // opencode's check: every package.json dependency and @opencode-ai/plugin in packages[""]
    const root = JSON.parse(lock.content).packages['']
    expect(root.dependencies).toEqual({ '@opencode-ai/plugin': '1.18.33' })
  })
})

describe('offlineDefaults', () => {
  it("switches off opencode's models.dev fetch", () => {
    expect(offlineDefaults({})).toEqual({ OPENCODE_DISABLE_MODELS_FETCH: '1' })
  })

  it('leaves the switch to a workflow that set it', () => {
    expect(offlineDefaults({ OPENCODE_DISABLE_MODELS_FETCH: '' })).toEqual({})
    expect(offlineDefaults({ OPENCODE_DISABLE_MODELS_FETCH: 'false' })).toEqual({})
  })
})

describe('seedHome', () => {
  it('makes the dirs, then the files, owned by the agent and private to it', async () => {
    const { privilege, commands } = recordingPrivilege()
    const seed = opencodeHomeSeed('1.18.33')
    await seedHome(privilege, user, seed)
    const owner = ['-o', '1234', '-g', '1235']
    expect(commands).toEqual([
      {
        command: 'install',
        args: ['-d', ...owner, '-m', '700', ...seed.dirs.map((d) => `${user.home}/${d}`)],
        source: undefined
      },
      {
        command: 'install',
        args: [...owner, '-m', '600', expect.any(String), `${user.home}/${seed.files[0].path}`],
        source: seed.files[0].content
      }
    ])
  })

  it.each(['../escape', '/etc/passwd', '.config/../../x', '', './.config', '.config//opencode'])(
    'refuses to seed %j, running nothing',
    async (path) => {
      const { privilege, commands } = recordingPrivilege()
      await expect(
        seedHome(privilege, user, { dirs: [], files: [{ path, content: 'x' }] })
      ).rejects.toMatchObject({ code: 'sandbox-failed' })
      await expect(seedHome(privilege, user, { dirs: [path], files: [] })).rejects.toMatchObject({
        code: 'sandbox-failed'
      })
      expect(commands).toEqual([])
    }
  )
})

describe('globalConfigDir', () => {
  it('is opencode under XDG_CONFIG_HOME, else under ~/.config', () => {
    expect(globalConfigDir({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/r' })).toBe('/x/cfg/opencode')
    expect(globalConfigDir({ XDG_CONFIG_HOME: '', HOME: '/home/r' })).toBe(
      '/home/r/.config/opencode'
    )
  })
})
