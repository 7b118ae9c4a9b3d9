import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 674:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  E: () => (/* binding */ runTarGuard)
});

// UNUSED EXPORTS: checkArchiveFile

;// CONCATENATED MODULE: external "node:child_process"
const external_node_child_process_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");
;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:fs/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs/promises");
;// CONCATENATED MODULE: external "node:zlib"
const external_node_zlib_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:zlib");
;// CONCATENATED MODULE: ./src/archive/tar-stream.ts
/**
 * A streaming reader of tar archives (POSIX ustar and pax, old GNU with its long names) that
 * reports each member as GNU tar would name it, so what is checked is what tar would write.
 */
/** An archive kugetsu will not extract, and why. */
class UnsafeArchiveError extends Error {
    constructor(message) {
        super(message);
        this.name = 'UnsafeArchiveError';
    }
}
/** An archive cut short: damaged in storage or transit, not dangerous in itself. */
class TruncatedArchiveError extends Error {
    constructor() {
        super('the tar archive is truncated');
        this.name = 'TruncatedArchiveError';
    }
}
const BLOCK = 512;
/** Extended headers (pax, GNU long names) held in memory: far above any real one. */
const MAX_META = 1024 * 1024;
const META_TYPES = new Set(['x', 'g', 'L', 'K']);
const field = (header, start, length) => {
    const raw = header.subarray(start, start + length);
    const nul = raw.indexOf(0);
    return raw.subarray(0, nul < 0 ? length : nul).toString('latin1');
};
/** A numeric header field: octal text, or GNU's base-256 (high bit of the first byte set). */
function numeric(header, start, length, what) {
    const raw = header.subarray(start, start + length);
    if (raw[0] & 0x80) {
        if (raw[0] !== 0x80)
            throw new UnsafeArchiveError(`negative or huge ${what} in a tar header`);
        let value = 0;
        for (const byte of raw.subarray(1))
            value = value * 256 + byte;
        if (!Number.isSafeInteger(value))
            throw new UnsafeArchiveError(`huge ${what} in a tar header`);
        return value;
    }
    const text = field(header, start, length).trim();
    if (text === '')
        return 0;
    if (!/^[0-7]+$/.test(text))
        throw new UnsafeArchiveError(`bad ${what} in a tar header`);
    return parseInt(text, 8);
}
function checksumOk(header) {
    const stored = numeric(header, 148, 8, 'checksum');
    let unsigned = 0;
    let signed = 0;
    for (let i = 0; i < BLOCK; i++) {
        const byte = i >= 148 && i < 156 ? 0x20 : header[i];
        unsigned += byte;
        signed += byte > 127 ? byte - 256 : byte;
    }
    return stored === unsigned || stored === signed;
}
/** `len key=value\n` records; values are kept byte for byte (latin1). */
function parsePax(data) {
    const records = new Map();
    let offset = 0;
    while (offset < data.length) {
        const space = data.indexOf(0x20, offset);
        const lengthText = space < 0 ? '' : data.subarray(offset, space).toString('latin1');
        const length = Number(lengthText);
        if (!/^[1-9][0-9]*$/.test(lengthText) || offset + length > data.length) {
            throw new UnsafeArchiveError('malformed pax header');
        }
        const record = data.subarray(space + 1, offset + length);
        const eq = record.indexOf(0x3d);
        if (record[record.length - 1] !== 0x0a || eq <= 0) {
            throw new UnsafeArchiveError('malformed pax header');
        }
        records.set(record.subarray(0, eq).toString('latin1'), record.subarray(eq + 1, record.length - 1).toString('latin1'));
        offset += length;
    }
    return records;
}
/**
 * Feed it the decompressed bytes with `write`, then call `end`. Throws UnsafeArchiveError for
 * anything it cannot read exactly as GNU tar would: bad checksums, unknown header formats,
 * malformed or ambiguous extended headers, data after the end marker; TruncatedArchiveError for an
 * archive cut short.
 */
class TarStream {
    handlers;
    pending = Buffer.alloc(0);
    state = { kind: 'header' };
    pax = new Map();
    longName;
    longLink;
    constructor(handlers) {
        this.handlers = handlers;
    }
    write(chunk) {
        let input = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
        this.pending = Buffer.alloc(0);
        while (input.length > 0) {
            const state = this.state;
            if (state.kind === 'end') {
                if (input.some((byte) => byte !== 0)) {
                    throw new UnsafeArchiveError('data after the end of the tar archive');
                }
                return;
            }
            if (state.kind === 'data') {
                if (state.left > 0) {
                    const take = Math.min(state.left, input.length);
                    if (state.wanted)
                        this.handlers.data?.(input.subarray(0, take));
                    state.left -= take;
                    input = input.subarray(take);
                    if (state.left === 0 && state.wanted)
                        this.handlers.end?.();
                    continue;
                }
                const skip = Math.min(state.pad, input.length);
                state.pad -= skip;
                input = input.subarray(skip);
                if (state.pad === 0)
                    this.state = { kind: 'header' };
                continue;
            }
            if (state.kind === 'meta') {
                const take = Math.min(state.left + state.pad, input.length);
                const part = input.subarray(0, Math.min(take, state.left));
                if (part.length)
                    state.parts.push(Buffer.from(part));
                const used = Math.min(take, state.left);
                state.left -= used;
                state.pad -= take - used;
                input = input.subarray(take);
                if (state.left === 0 && state.pad === 0) {
                    this.meta(state.type, Buffer.concat(state.parts));
                    this.state = { kind: 'header' };
                }
                continue;
            }
            if (input.length < BLOCK) {
                this.pending = Buffer.from(input);
                return;
            }
            this.header(input.subarray(0, BLOCK));
            input = input.subarray(BLOCK);
        }
    }
    end() {
        const state = this.state;
        if (this.pending.length > 0 || state.kind === 'meta' || state.kind === 'data') {
            throw new TruncatedArchiveError();
        }
        if (this.pax.size > 0 || this.longName !== undefined || this.longLink !== undefined) {
            throw new UnsafeArchiveError('the tar archive ends with an extended header');
        }
    }
    header(header) {
        if (header.every((byte) => byte === 0)) {
            if (this.pax.size > 0 || this.longName !== undefined || this.longLink !== undefined) {
                throw new UnsafeArchiveError('the tar archive ends with an extended header');
            }
            this.state = { kind: 'end' };
            return;
        }
        const magic = header.subarray(257, 265).toString('latin1');
        const posix = magic === 'ustar\u000000';
        if (!posix && magic !== 'ustar  \u0000') {
            throw new UnsafeArchiveError('a tar header is neither POSIX ustar nor GNU');
        }
        if (!checksumOk(header))
            throw new UnsafeArchiveError('bad checksum in a tar header');
        const type = header[156] === 0 ? '0' : String.fromCharCode(header[156]);
        let size = numeric(header, 124, 12, 'size');
        const padOf = (n) => (BLOCK - (n % BLOCK)) % BLOCK;
        if (META_TYPES.has(type)) {
            if (size > MAX_META)
                throw new UnsafeArchiveError('oversized extended tar header');
            this.state = { kind: 'meta', type, left: size, pad: padOf(size), parts: [] };
            if (size === 0) {
                this.meta(type, Buffer.alloc(0));
                this.state = { kind: 'header' };
            }
            return;
        }
        const name = field(header, 0, 100);
        const prefix = posix ? field(header, 345, 155) : '';
        const fromHeader = prefix ? `${prefix}/${name}` : name;
        const paxPath = this.pax.get('path');
        if (paxPath !== undefined && this.longName !== undefined) {
            throw new UnsafeArchiveError('a tar member has both a pax path and a GNU long name');
        }
        const paxLink = this.pax.get('linkpath');
        if (paxLink !== undefined && this.longLink !== undefined) {
            throw new UnsafeArchiveError('a tar member has both a pax linkpath and a GNU long link');
        }
        const paxSize = this.pax.get('size');
        if (paxSize !== undefined) {
            if (!/^[0-9]{1,15}$/.test(paxSize))
                throw new UnsafeArchiveError('bad pax size');
            size = Number(paxSize);
        }
        const member = {
            path: paxPath ?? this.longName ?? fromHeader,
            linkpath: paxLink ?? this.longLink ?? field(header, 157, 100),
            type,
            size,
            mode: numeric(header, 100, 8, 'mode')
        };
        this.pax = new Map();
        this.longName = undefined;
        this.longLink = undefined;
        // Readers differ on whether such members' data follows: none may have any.
        if (['1', '2', '3', '4', '5', '6'].includes(type) && size !== 0) {
            throw new UnsafeArchiveError('a link, directory or device tar member carries data');
        }
        const wanted = this.handlers.member(member) === true;
        if (wanted && size === 0)
            this.handlers.end?.();
        this.state = { kind: 'data', left: size, pad: padOf(size), wanted };
    }
    meta(type, data) {
        if (type === 'L' || type === 'K') {
            // GNU long names are NUL-terminated within their data.
            const nul = data.indexOf(0);
            const value = data.subarray(0, nul < 0 ? data.length : nul).toString('latin1');
            if (type === 'L')
                this.longName = value;
            else
                this.longLink = value;
            return;
        }
        const records = parsePax(data);
        for (const key of records.keys()) {
            if (key.startsWith('GNU.sparse'))
                throw new UnsafeArchiveError('sparse tar members');
            if (type === 'g' && ['path', 'linkpath', 'size'].includes(key)) {
                throw new UnsafeArchiveError(`a global pax header sets ${key}`);
            }
        }
        if (type === 'x')
            for (const [key, value] of records)
                this.pax.set(key, value);
    }
}

;// CONCATENATED MODULE: ./src/archive/tar-check.ts
/**
 * Decides whether a cache archive may be extracted: every member must land inside the directory
 * it was restored for, with nothing that could lead a write elsewhere, and within size limits.
 */


const KINDS = {
    '0': 'file',
    '7': 'file',
    '1': 'hardlink',
    '2': 'symlink',
    '5': 'directory'
};
/**
 * The segments of a member or link path, without `.` and empty ones. Refused: absolute paths,
 * `..`, NUL, backslashes and drive letters (Windows would read them as separators or roots).
 */
function segments(path, what) {
    const shown = JSON.stringify(path.slice(0, 200));
    if (path === '')
        throw new UnsafeArchiveError(`${what} with an empty name`);
    if (path.includes('\0'))
        throw new UnsafeArchiveError(`${what} ${shown} contains NUL`);
    if (path.includes('\\'))
        throw new UnsafeArchiveError(`${what} ${shown} contains a backslash`);
    if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) {
        throw new UnsafeArchiveError(`${what} ${shown} is an absolute path`);
    }
    const parts = path.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.includes('..'))
        throw new UnsafeArchiveError(`${what} ${shown} contains ".."`);
    return parts;
}
/** Case-folded, as a case-insensitive filesystem (macOS, Windows) would see it. */
const folded = (parts) => parts.join('/').toLowerCase();
class ArchiveChecker {
    limits;
    stream;
    scope;
    members = [];
    bytes = 0;
    constructor(limits) {
        this.limits = limits;
        this.scope = limits.scope.split('/').filter((part) => part !== '' && part !== '.');
        this.stream = new TarStream({ member: (member) => this.add(member) });
    }
    write(chunk) {
        this.stream.write(chunk);
    }
    /** Throws UnsafeArchiveError when the archive as a whole may not be extracted. */
    end() {
        this.stream.end();
        const symlinks = new Set(this.members.filter((m) => m.member.type === '2').map((m) => folded(m.parts)));
        // Through a symlink, a write can land anywhere: no member may have one above it.
        const throughSymlink = (parts) => parts.slice(0, -1).some((_, i) => symlinks.has(folded(parts.slice(0, i + 1))));
        for (const { parts, member } of this.members) {
            const shown = JSON.stringify(member.path.slice(0, 200));
            if (throughSymlink(parts)) {
                throw new UnsafeArchiveError(`member ${shown} lies under a symlink of the archive`);
            }
            if (member.type === '1') {
                const target = segments(member.linkpath, `the hard link ${shown} to`);
                if (!this.inScope(target) || throughSymlink(target) || symlinks.has(folded(target))) {
                    throw new UnsafeArchiveError(`the hard link ${shown} points outside its directory`);
                }
            }
            if (member.type === '2')
                this.checkSymlink(parts, member, symlinks);
        }
    }
    add(member) {
        if (this.members.length >= this.limits.maxMembers) {
            throw new UnsafeArchiveError(`more than ${this.limits.maxMembers} members`);
        }
        const kind = KINDS[member.type];
        const shown = JSON.stringify(member.path.slice(0, 200));
        if (!kind) {
            throw new UnsafeArchiveError(['3', '4', '6'].includes(member.type)
                ? `member ${shown} is a device or fifo`
                : `member ${shown} has an unsupported type "${member.type}"`);
        }
        const parts = segments(member.path, 'member');
        if (!this.inScope(parts)) {
            throw new UnsafeArchiveError(`member ${shown} is outside ${JSON.stringify(this.limits.scope)}`);
        }
        this.bytes += member.size;
        if (this.bytes > this.limits.maxBytes) {
            throw new UnsafeArchiveError(`more than ${this.limits.maxBytes} bytes unpacked`);
        }
        this.members.push({ parts, member });
    }
    inScope(parts) {
        return parts.length >= this.scope.length && this.scope.every((part, i) => parts[i] === part);
    }
    /**
     * A symlink's target, resolved from the link's directory, must stay in scope, and may not pass
     * through another symlink of the archive (the kernel would follow that one, not the text).
     */
    checkSymlink(parts, member, symlinks) {
        const shown = JSON.stringify(member.path.slice(0, 200));
        const target = member.linkpath;
        if (target === '' || target.includes('\0') || target.includes('\\')) {
            throw new UnsafeArchiveError(`the symlink ${shown} has a malformed target`);
        }
        if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) {
            throw new UnsafeArchiveError(`the symlink ${shown} points to an absolute path`);
        }
        const resolved = parts.slice(0, -1);
        for (const part of target.split('/')) {
            if (part === '' || part === '.')
                continue;
            if (part === '..') {
                if (resolved.pop() === undefined) {
                    throw new UnsafeArchiveError(`the symlink ${shown} points outside its directory`);
                }
                continue;
            }
            resolved.push(part);
            if (symlinks.has(folded(resolved))) {
                throw new UnsafeArchiveError(`the symlink ${shown} points through another symlink`);
            }
        }
        if (!this.inScope(resolved)) {
            throw new UnsafeArchiveError(`the symlink ${shown} points outside its directory`);
        }
    }
}

;// CONCATENATED MODULE: ./src/action/cache/tar-guard.ts
/**
 * The `tar` that `@actions/cache` runs while kugetsu restores an entry (see tar-guard-setup.ts):
 * an extraction is checked member by member before anything is written, then handed to the real
 * tar without `-P` (which would let `/x` and `../x` members through); anything else passes through.
 */





function run(command, args) {
    return new Promise((resolve) => {
        const child = (0,external_node_child_process_namespaceObject.spawn)(command, args, { stdio: 'inherit' });
        child.on('error', (error) => {
            process.stderr.write(`${command}: ${error.message}\n`);
            resolve(127);
        });
        child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
}
/** The archive `-xf ARCHIVE` (in one cluster, as @actions/cache writes it) names; else undefined. */
function extractedArchive(args) {
    const index = args.findIndex((arg) => /^-[A-Za-z]*x[A-Za-z]*$/.test(arg) || arg === '--extract');
    if (index < 0)
        return undefined;
    const cluster = args[index];
    return cluster.endsWith('f') && index + 1 < args.length ? args[index + 1] : null;
}
async function magic(file) {
    const handle = await (0,promises_namespaceObject.open)(file, 'r');
    try {
        const head = Buffer.alloc(4);
        const { bytesRead } = await handle.read(head, 0, 4, 0);
        return head.subarray(0, bytesRead);
    }
    finally {
        await handle.close();
    }
}
/** Feeds the decompressed archive to the checker; throws UnsafeArchiveError on a refusal. */
async function checkArchiveFile(archive, limits) {
    const checker = new ArchiveChecker(limits);
    const head = await magic(archive);
    const chunkSize = 1 << 20;
    if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
        // node has no zstd: the zstd binary @actions/cache itself needs, bounded like its own.
        const child = (0,external_node_child_process_namespaceObject.spawn)('zstd', ['-d', '-c', '-q', '--long=30', '--', archive], {
            stdio: ['ignore', 'pipe', 'pipe']
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
        const exited = new Promise((resolve, reject) => {
            child.on('error', reject);
            child.on('close', resolve);
        });
        try {
            for await (const chunk of child.stdout)
                checker.write(chunk);
        }
        catch (error) {
            child.kill('SIGKILL');
            throw error;
        }
        const code = await exited;
        if (code !== 0)
            throw new Error(`zstd failed (${code}): ${stderr.trim().slice(0, 300)}`);
    }
    else {
        const input = (0,external_node_fs_namespaceObject.createReadStream)(archive, { highWaterMark: chunkSize });
        const source = head[0] === 0x1f && head[1] === 0x8b ? input.pipe((0,external_node_zlib_namespaceObject.createGunzip)({ chunkSize })) : input;
        try {
            for await (const chunk of source)
                checker.write(chunk);
        }
        finally {
            input.destroy();
        }
    }
    checker.end();
}
/**
 * Runs as the guard: `args` are `--config FILE --real TAR` and then tar's own arguments. The exit
 * code is tar's, or 2 for a refused archive (its reason in the config's report file).
 */
async function runTarGuard(args) {
    if (args[0] !== '--config' || args[2] !== '--real' || args.length < 4) {
        process.stderr.write('kugetsu tar guard: bad arguments\n');
        return 2;
    }
    const config = JSON.parse(await (0,promises_namespaceObject.readFile)(args[1], 'utf8'));
    const realTar = args[3];
    const tarArgs = args.slice(4);
    const archive = extractedArchive(tarArgs);
    if (archive === undefined)
        return run(realTar, tarArgs);
    try {
        if (archive === null)
            throw new UnsafeArchiveError('unexpected tar command line');
        await checkArchiveFile(archive, config);
    }
    catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const refused = error instanceof UnsafeArchiveError;
        await (0,promises_namespaceObject.writeFile)(config.report, JSON.stringify({ refused, reason }) + '\n');
        process.stderr.write(`kugetsu refused the cache archive: ${reason}\n`);
        return 2;
    }
    // The members were checked; tar's own defences stay on as a second line.
    return run(realTar, [...tarArgs.filter((arg) => arg !== '-P'), '--no-same-owner']);
}


/***/ }),

/***/ 521:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _action_cache_tar_guard_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(674);
/** The tar guard's entry point (dist/tar-guard/index.js); see src/action/cache/tar-guard.ts. */

process.exitCode = await (0,_action_cache_tar_guard_js__WEBPACK_IMPORTED_MODULE_0__/* .runTarGuard */ .E)(process.argv.slice(2));

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId](module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/async module */
/******/ (() => {
/******/ 	var webpackQueues = typeof Symbol === "function" ? Symbol("webpack queues") : "__webpack_queues__";
/******/ 	var webpackExports = typeof Symbol === "function" ? Symbol("webpack exports") : "__webpack_exports__";
/******/ 	var webpackError = typeof Symbol === "function" ? Symbol("webpack error") : "__webpack_error__";
/******/ 	var resolveQueue = (queue) => {
/******/ 		if(queue && queue.d < 1) {
/******/ 			queue.d = 1;
/******/ 			queue.forEach((fn) => (fn.r--));
/******/ 			queue.forEach((fn) => (fn.r-- ? fn.r++ : fn()));
/******/ 		}
/******/ 	}
/******/ 	var wrapDeps = (deps) => (deps.map((dep) => {
/******/ 		if(dep !== null && typeof dep === "object") {
/******/ 			if(dep[webpackQueues]) return dep;
/******/ 			if(dep.then) {
/******/ 				var queue = [];
/******/ 				queue.d = 0;
/******/ 				dep.then((r) => {
/******/ 					obj[webpackExports] = r;
/******/ 					resolveQueue(queue);
/******/ 				}, (e) => {
/******/ 					obj[webpackError] = e;
/******/ 					resolveQueue(queue);
/******/ 				});
/******/ 				var obj = {};
/******/ 				obj[webpackQueues] = (fn) => (fn(queue));
/******/ 				return obj;
/******/ 			}
/******/ 		}
/******/ 		var ret = {};
/******/ 		ret[webpackQueues] = x => {};
/******/ 		ret[webpackExports] = dep;
/******/ 		return ret;
/******/ 	}));
/******/ 	__nccwpck_require__.a = (module, body, hasAwait) => {
/******/ 		var queue;
/******/ 		hasAwait && ((queue = []).d = -1);
/******/ 		var depQueues = new Set();
/******/ 		var exports = module.exports;
/******/ 		var currentDeps;
/******/ 		var outerResolve;
/******/ 		var reject;
/******/ 		var promise = new Promise((resolve, rej) => {
/******/ 			reject = rej;
/******/ 			outerResolve = resolve;
/******/ 		});
/******/ 		promise[webpackExports] = exports;
/******/ 		promise[webpackQueues] = (fn) => (queue && fn(queue), depQueues.forEach(fn), promise["catch"](x => {}));
/******/ 		module.exports = promise;
/******/ 		body((deps) => {
/******/ 			currentDeps = wrapDeps(deps);
/******/ 			var fn;
/******/ 			var getResult = () => (currentDeps.map((d) => {
/******/ 				if(d[webpackError]) throw d[webpackError];
/******/ 				return d[webpackExports];
/******/ 			}))
/******/ 			var promise = new Promise((resolve) => {
/******/ 				fn = () => (resolve(getResult));
/******/ 				fn.r = 0;
/******/ 				var fnQueue = (q) => (q !== queue && !depQueues.has(q) && (depQueues.add(q), q && !q.d && (fn.r++, q.push(fn))));
/******/ 				currentDeps.map((dep) => (dep[webpackQueues](fnQueue)));
/******/ 			});
/******/ 			return fn.r ? promise : getResult();
/******/ 		}, (err) => ((err ? reject(promise[webpackError] = err) : outerResolve(exports)), resolveQueue(queue)));
/******/ 		queue && queue.d < 0 && (queue.d = 0);
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/************************************************************************/
/******/ 
/******/ // startup
/******/ // Load entry module and return exports
/******/ // This entry module used 'module' so it can't be inlined
/******/ var __webpack_exports__ = __nccwpck_require__(521);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 
