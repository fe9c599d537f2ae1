import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (node --cpu-prof) this summary reads. */
interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
}

/** Which part of a profile to summarise, and what to divide it by. */
export interface ProfileWindow {
  /** Monotonic µs (process.hrtime), the clock of the profile's timestamps. */
  readonly fromMicros: number;
  readonly toMicros: number;
  /** Status writes in the window: costs are also printed per write. */
  readonly requests: number;
}

/** Which package or subsystem a frame belongs to, from its script URL. */
function areaOf(functionName: string, url: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : 'V8 builtins / native';
  const modules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (modules) return modules[1];
  if (url.includes('/.tmp/bench/')) return 'bench harness';
  if (url.includes('/dist/')) return 'nestjs-tenancy (dist)';
  if (url.startsWith('node:')) {
    const path = url.slice('node:'.length).replace(/^internal\//, '');
    const top = path.split('/')[0].replace(/^_/, '');
    if (/^http|^https|^agent|^outgoing|^incoming/.test(top)) return 'node http';
    if (top === 'streams' || top === 'stream') return 'node streams';
    if (top === 'net' || top === 'dns') return 'node net';
    if (top === 'timers' || top === 'process') return 'node timers/process';
    return `node ${top}`;
  }
  return url;
}

function frameName(functionName: string, url: string, line: number): string {
  const file = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules\/)/, '$1').replace(/^file:\/\/.*\/(dist|\.tmp)\//, '$1/')}:${line + 1}`;
  return `${functionName || '(anonymous)'}${file}`;
}

/**
 * Top self-time areas and frames, and the top inclusive frames of the library and
 * its dependencies, as printable lines. Undefined-safe: a missing file yields a note.
 */
export function summarizeProfile(path: string, top = 15, window?: ProfileWindow): string[] {
  let profile: CpuProfile;
  try {
    profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  } catch (error) {
    return [`(no profile at ${path}: ${(error as Error).message})`];
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfByArea = new Map<string, number>();
  const selfByFrame = new Map<string, number>();
  const totalByFrame = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const micros = profile.timeDeltas[i] ?? 0;
    at += micros;
    // Only the measured window (first request → last status write), when given.
    if (window && (at < window.fromMicros || at > window.toMicros)) continue;
    const leaf = byId.get(profile.samples[i]);
    if (!leaf) continue;
    total += micros;
    const { functionName, url, lineNumber } = leaf.callFrame;
    if (functionName === '(idle)') idle += micros;
    const area = areaOf(functionName, url);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + micros);
    const name = frameName(functionName, url, lineNumber);
    selfByFrame.set(name, (selfByFrame.get(name) ?? 0) + micros);
    // Inclusive: every distinct frame on this sample's stack, counted once.
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const key = frameName(frame.functionName, frame.url, frame.lineNumber);
      if (seen.has(key)) continue;
      seen.add(key);
      totalByFrame.set(key, (totalByFrame.get(key) ?? 0) + micros);
    }
  }
  const busy = total - idle;
  const perRequest = (micros: number) => (window ? ` ${(micros / window.requests).toFixed(1).padStart(6)} µs/write` : '');
  const pct = (micros: number) => `${((micros / busy) * 100).toFixed(1).padStart(5)}%${perRequest(micros)}`;
  const sorted = (map: Map<string, number>) => [...map.entries()].filter(([key]) => key !== '(idle)').sort((a, b) => b[1] - a[1]);
  const scope = window ? `window 1st request → last status write, ${window.requests} status writes, ${(busy / window.requests).toFixed(1)} µs busy per write; ` : '';
  const lines = [`profile ${path}: ${scope}${(busy / 1000).toFixed(0)} ms busy of ${(total / 1000).toFixed(0)} ms sampled (percentages of busy time)`];
  lines.push('self time by area:');
  for (const [area, micros] of sorted(selfByArea).slice(0, 12)) lines.push(`  ${pct(micros)}  ${area}`);
  lines.push('top self frames:');
  for (const [frame, micros] of sorted(selfByFrame).slice(0, top)) lines.push(`  ${pct(micros)}  ${frame}`);
  lines.push('top inclusive frames in nestjs-tenancy / class-validator / class-transformer:');
  const interesting = sorted(totalByFrame).filter(([frame]) =>
    /^(?!\(anonymous\))\S+ (dist\/|node_modules\/(class-validator|class-transformer)\/)/.test(frame),
  );
  for (const [frame, micros] of interesting.slice(0, top)) lines.push(`  ${pct(micros)}  ${frame}`);
  return lines;
}
