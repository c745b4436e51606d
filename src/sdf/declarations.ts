// What the element parsers produce: the model before names are resolved, pages promoted and
// memory placed. Each type differs from its model counterpart only in what is resolved later.
import type {
  CapMap,
  ChannelEndDecl,
  Irq,
  Map,
  MemoryRegion,
  ProtectionDomain,
  Setvar,
  SourceLocation,
  VirtualMachine,
} from "./model.ts";

export type MapDecl = Omit<Map, "region">;

export type MemoryRegionDecl = Omit<MemoryRegion, "paddr">;

/** A setvar whose value is known now (vaddr, id) or after placement (paddr, size). */
export type SetvarDecl = Omit<Setvar, "value"> & { value?: number; tag: string };

export type VirtualMachineDecl = Omit<VirtualMachine, "maps"> & { maps: MapDecl[] };

export interface ProtectionDomainDecl extends Omit<
  ProtectionDomain,
  | "maps"
  | "setvars"
  | "children"
  | "virtualMachine"
  | "channels"
  | "irqMask"
  | "notifyMask"
  | "ppMask"
  | "hasEndpoint"
  | "parent"
> {
  maps: MapDecl[];
  irqs: Irq[];
  setvars: SetvarDecl[];
  capMaps: CapMap[];
  children: ProtectionDomainDecl[];
  virtualMachine?: VirtualMachineDecl;
  parent?: string;
}

export interface ChannelDecl {
  ends: [ChannelEndDecl, ChannelEndDecl];
  location: SourceLocation;
}
