/**
 * Decides whether a cache archive may be extracted: every member must land inside the directory
 * it was restored for, with nothing that could lead a write elsewhere, and within size limits.
 */
import { TarStream, UnsafeArchiveError, type TarMember } from './tar-stream.js'

export { UnsafeArchiveError }

export interface ArchiveLimits {
  /** Members must be this path (relative to the extraction root, `/`-separated) or below it. */
  scope: string
  /** Most bytes the members may unpack to. */
  maxBytes: number
  /** Most members (extended headers count too). */
  maxMembers: number
}

const KINDS: Record<string, 'file' | 'hardlink' | 'symlink' | 'directory'> = {
  '0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '5': 'directory'
}

/**
 * The segments of a member or link path, without `.` and empty ones. Refused: absolute paths,
 * `..`, NUL, backslashes and drive letters (Windows would read them as separators or roots).
 */
function segments(path: string, what: string): string[] {
  const shown = JSON.stringify(path.slice(0, 200))
  if (path === '') throw new UnsafeArchiveError(`${what} with an empty name`)
  if (path.includes('\0')) throw new UnsafeArchiveError(`${what} ${shown} contains NUL`)
  if (path.includes('\\')) throw new UnsafeArchiveError(`${what} ${shown} contains a backslash`)
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) {
    throw new UnsafeArchiveError(`${what} ${shown} is an absolute path`)
  }
  const parts = path.split('/').filter((part) => part !== '' && part !== '.')
  if (parts.includes('..')) throw new UnsafeArchiveError(`${what} ${shown} contains ".."`)
  return parts
}

/** Case-folded, as a case-insensitive filesystem (macOS, Windows) would see it. */
const folded = (parts: string[]) => parts.join('/').toLowerCase()

export class ArchiveChecker {
  private readonly stream: TarStream
  private readonly scope: string[]
  private readonly members: { parts: string[]; member: TarMember }[] = []
  private bytes = 0

  constructor(private readonly limits: ArchiveLimits) {
    this.scope = limits.scope.split('/').filter((part) => part !== '' && part !== '.')
    this.stream = new TarStream({ member: (member) => this.add(member) })
  }

  write(chunk: Buffer): void {
    this.stream.write(chunk)
  }

  /** Throws UnsafeArchiveError when the archive as a whole may not be extracted. */
  end(): void {
    this.stream.end()
    const symlinks = new Set(
      this.members.filter((m) => m.member.type === '2').map((m) => folded(m.parts))
    )
    // Through a symlink, a write can land anywhere: no member may have one above it.
    const throughSymlink = (parts: string[]) =>
      parts.slice(0, -1).some((_, i) => symlinks.has(folded(parts.slice(0, i + 1))))
    for (const { parts, member } of this.members) {
      const shown = JSON.stringify(member.path.slice(0, 200))
      if (throughSymlink(parts)) {
        throw new UnsafeArchiveError(`member ${shown} lies under a symlink of the archive`)
      }
      if (member.type === '1') {
        const target = segments(member.linkpath, `the hard link ${shown} to`)
        if (!this.inScope(target) || throughSymlink(target) || symlinks.has(folded(target))) {
          throw new UnsafeArchiveError(`the hard link ${shown} points outside its directory`)
        }
      }
      if (member.type === '2') this.checkSymlink(parts, member, symlinks)
    }
  }

  private add(member: TarMember): void {
    if (this.members.length >= this.limits.maxMembers) {
      throw new UnsafeArchiveError(`more than ${this.limits.maxMembers} members`)
    }
    const kind = KINDS[member.type]
    const shown = JSON.stringify(member.path.slice(0, 200))
    if (!kind) {
      throw new UnsafeArchiveError(
        ['3', '4', '6'].includes(member.type)
          ? `member ${shown} is a device or fifo`
          : `member ${shown} has an unsupported type "${member.type}"`
      )
    }
    const parts = segments(member.path, 'member')
    if (!this.inScope(parts)) {
      throw new UnsafeArchiveError(
        `member ${shown} is outside ${JSON.stringify(this.limits.scope)}`
      )
    }
    this.bytes += member.size
    if (this.bytes > this.limits.maxBytes) {
      throw new UnsafeArchiveError(`more than ${this.limits.maxBytes} bytes unpacked`)
    }
    this.members.push({ parts, member })
  }

  private inScope(parts: string[]): boolean {
    return parts.length >= this.scope.length && this.scope.every((part, i) => parts[i] === part)
  }

  /**
   * A symlink's target, resolved from the link's directory, must stay in scope, and may not pass
   * through another symlink of the archive (the kernel would follow that one, not the text).
   */
  private checkSymlink(parts: string[], member: TarMember, symlinks: Set<string>): void {
    const shown = JSON.stringify(member.path.slice(0, 200))
    const target = member.linkpath
    if (target === '' || target.includes('\0') || target.includes('\\')) {
      throw new UnsafeArchiveError(`the symlink ${shown} has a malformed target`)
    }
    if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) {
      throw new UnsafeArchiveError(`the symlink ${shown} points to an absolute path`)
    }
    const resolved = parts.slice(0, -1)
    for (const part of target.split('/')) {
      if (part === '' || part === '.') continue
      if (part === '..') {
        if (resolved.pop() === undefined) {
          throw new UnsafeArchiveError(`the symlink ${shown} points outside its directory`)
        }
        continue
      }
      resolved.push(part)
      if (symlinks.has(folded(resolved))) {
        throw new UnsafeArchiveError(`the symlink ${shown} points through another symlink`)
      }
    }
    if (!this.inScope(resolved)) {
      throw new UnsafeArchiveError(`the symlink ${shown} points outside its directory`)
    }
  }
}
