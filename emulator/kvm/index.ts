// Public surface of emulator/kvm. Append-friendly: one export line per module; other parts add their own lines.

export * from './errno';
export * from './flavours';
export * from './guest';
export * from './vm';
export * from './memslots';
export * from './host-memory';
export * from './memslot-lock';
export * from './pending-ops';
export * from './vcpu-state';
export * from './dirty-log';
export * from './pkvm';
export * from './caps';
