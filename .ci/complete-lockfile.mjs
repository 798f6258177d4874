#!/usr/bin/env node
// The npm mirror this project is built behind serves only this platform's native binaries, so
// `npm install` here leaves every other platform's optional binary (@biomejs/cli-darwin-arm64,
// @rollup/rollup-win32-x64-msvc, ...) out of package-lock.json, and `npm ci` then refuses the lock
// file as out of sync. This restores those entries as npm itself writes them — version, os, cpu,
// libc, optional — so `npm ci` skips them on other platforms and fetches them where they belong.
// Run it after any `npm install` that changes the lock file: `node .ci/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const packages = lock.packages;

const OS = [
  'aix',
  'android',
  'darwin',
  'freebsd',
  'linux',
  'netbsd',
  'openbsd',
  'openharmony',
  'sunos',
  'win32',
];
const CPU = ['arm64', 'arm', 'ia32', 'loong64', 'mips64el', 'ppc64', 's390x', 'riscv64', 'x64'];

/** os, cpu and libc from a platform package name such as cli-linux-arm64-musl or rollup-win32-x64-msvc. */
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((part) => OS.includes(part));
  const cpu = parts.find((part) => CPU.includes(part));
  if (!os || !cpu) return undefined;
  const rest = parts.slice(parts.indexOf(cpu) + 1);
  const libc = os === 'linux' ? (rest.some((part) => part.startsWith('musl')) ? 'musl' : 'glibc') : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

/** Whether node's resolution from the package at `path` finds `name` in the lock file. */
function resolves(path, name) {
  let dir = path;
  for (;;) {
    if (packages[`${dir === '' ? '' : `${dir}/`}node_modules/${name}`]) return true;
    if (dir === '') return false;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (resolves(path, name)) continue;
    const hoisted = `node_modules/${name}`;
    const platform = platformOf(name);
    if (!platform) {
      console.error(
        `complete-lockfile: ${name}@${version} (optional dependency of ${path || 'the project'}) is missing and is not a platform binary; run npm install on a machine that reaches it`,
      );
      process.exitCode = 1;
      continue;
    }
    packages[hoisted] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: restored ${added} platform entr${added === 1 ? 'y' : 'ies'}`);
