// `exceptionInfo` for an event breakpoint stop: what happened (the event), the decoded syndrome (ESR fields), what
// KVM did about it (the resolution) and the spec section that describes that behaviour.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { TraceEvent } from '../emulator/events';
import { describeEsr } from '../emulator/arch/esr';
import { describeEvent } from '../emulator/scenario/event-match';
import { filterById, type FilterId } from './exception-filters';
import { hex } from './stage2-walk';

/** spec sections per stage 2 fault resolution (spec C.4 decision tree, C.5 MMIO, C.6 injection) */
const RESOLUTION_SPEC: { readonly [r: string]: string } = {
  map: 'spec C.4 (fault-in: user_mem_abort maps the page)',
  relax: 'spec C.4 (permission fault: relax_perms)',
  mkyoung: 'spec C.4 (access flag fault: handle_access_fault)',
  mmio: 'spec C.5 (io_mem_abort -> KVM_EXIT_MMIO)',
  nisv: 'spec C.5 (no valid syndrome -> KVM_EXIT_ARM_NISV or -ENOSYS)',
  inject: 'spec C.6 (an abort injected into the guest)',
  skip: 'spec C.4 (instruction skipped)',
  serror: 'spec C.6 (virtual SError)',
  'in-kernel': 'spec C.5 (in-kernel device MMIO)',
  error: 'spec C.4 (KVM_RUN fails)',
};

export function exceptionInfo(filter: FilterId | undefined, e: TraceEvent | undefined, text: string | undefined): DebugProtocol.ExceptionInfoResponse['body'] {
  if (!e) {
    return { exceptionId: filter ?? 'breakpoint', description: text ?? 'stopped', breakMode: 'always' };
  }
  const def = filter ? filterById(filter) : undefined;
  const lines: string[] = [describeEvent(e)];
  for (const k of ['esr', 'hw_pmbsr', 'pmbsr']) {
    const v = e.fields[k];
    if (typeof v === 'bigint' && k === 'esr') lines.push(`ESR ${hex(v)}: ${describeEsr(v)}`);
  }
  let spec = def?.spec ?? '';
  if (e.event === 'stage2-fault') {
    const r = String(e.fields.resolution);
    lines.push(`KVM resolved it: ${r}`);
    spec = RESOLUTION_SPEC[r] ?? spec;
  }
  if (e.event === 'hypercall') lines.push(`ret (x0-x3) = ${JSON.stringify((e.fields.ret as readonly bigint[] | undefined)?.map((x) => hex(x)) ?? [])}`);
  if (e.event === 'spe-irq') {
    lines.push(`hardware said EC=${hex(e.fields.hw_ec as number)}, the guest sees EC=${hex(e.fields.ec as number)} (PMBSR ${hex(e.fields.pmbsr as bigint)})`);
    spec = 'spec E.2, E.5';
  }
  if (e.event === 'ioctl' && typeof e.fields.rule === 'string') spec = `spec ${e.fields.rule}`;
  if (spec) lines.push(`see ${spec}`);
  const description = lines.join('\n');
  return {
    exceptionId: filter ?? e.event,
    description,
    breakMode: 'always',
    details: {
      message: description,
      typeName: e.event,
      fullTypeName: `${e.event} (${def?.label ?? 'event'})`,
      evaluateName: undefined,
      stackTrace: spec || undefined,
    },
  };
}
