import { describe, expect, it } from '@jest/globals'
import { defaultStateDir, repoDefaults } from '../src/cli/run-cli.js'

describe('CLI defaults', () => {
  it('state dir: KUGETSU_STATE_DIR, then XDG_DATA_HOME, then ~/.local/share', () => {
    expect(defaultStateDir({ KUGETSU_STATE_DIR: '/s', XDG_DATA_HOME: '/x' })).toBe('/s')
    expect(defaultStateDir({ XDG_DATA_HOME: '/x' })).toBe('/x/kugetsu')
    expect(defaultStateDir({ HOME: '/home/me' })).toBe('/home/me/.local/share/kugetsu')
  })

  it('repository defaults from a flag or a git remote', () => {
    expect(repoDefaults('shoko/kugetsu')).toEqual({
      host: 'github.com',
      owner: 'shoko',
      repo: 'kugetsu'
    })
    expect(repoDefaults('ghe.example.com:8443/o/r')).toEqual({
      host: 'ghe.example.com:8443',
      owner: 'o',
      repo: 'r'
    })
    expect(repoDefaults('https://github.com/shoko/kugetsu.git')).toEqual({
      host: 'github.com',
      owner: 'shoko',
      repo: 'kugetsu'
    })
    expect(repoDefaults('https://token@ghe.example.com/o/r/')).toEqual({
      host: 'ghe.example.com',
      owner: 'o',
      repo: 'r'
    })
    expect(repoDefaults('git@github.com:shoko/kugetsu.git')).toEqual({
      host: 'github.com',
      owner: 'shoko',
      repo: 'kugetsu'
    })
    expect(repoDefaults('not a repo at all/x/y/z')).toEqual({})
    expect(repoDefaults(undefined)).toEqual({})
  })
})
