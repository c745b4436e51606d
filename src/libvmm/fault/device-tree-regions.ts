// Which device-tree node claims a guest-physical address: fault reports name the node so the user can
// disable it or find its driver. Addresses are translated through each bus's `ranges`, as Linux does.
import { cellsOf, getProperty, readFdt, stringsOf, type FdtNode } from "../fdt.ts";

export interface DeviceTreeRegion {
  /** Full node path, e.g. /pl011@9000000. */
  path: string;
  base: number;
  size: number;
  compatible: string[];
  /** status = "disabled" (or anything but "okay"/"ok"). */
  disabled: boolean;
}

interface Bus {
  addressCells: number;
  sizeCells: number;
  /** Child address → CPU address; undefined when the bus's children are not memory-mapped. */
  translate: ((address: number, size: number) => number | undefined) | undefined;
}

function cellNumber(cells: number[]): number {
  return cells.reduce((value, cell) => value * 0x1_0000_0000 + cell, 0);
}

function cellCount(node: FdtNode, name: string, fallback: number): number {
  const value = getProperty(node, name);
  return value && value.length === 4 ? cellsOf(value)[0]! : fallback;
}

/** Every node with a `reg` in the CPU's address space, in tree order. */
export function deviceTreeRegions(dtb: Uint8Array): DeviceTreeRegion[] {
  const tree = readFdt(dtb, "guest DTB");
  const regions: DeviceTreeRegion[] = [];
  const rootBus: Bus = {
    addressCells: cellCount(tree.root, "#address-cells", 2),
    sizeCells: cellCount(tree.root, "#size-cells", 1),
    translate: (address) => address,
  };
  const visit = (node: FdtNode, path: string, parent: Bus) => {
    const reg = getProperty(node, "reg");
    const stride = parent.addressCells + parent.sizeCells;
    if (reg && parent.translate && parent.sizeCells > 0 && stride > 0) {
      const cells = cellsOf(reg);
      const status = getProperty(node, "status");
      const statusText = status ? stringsOf(status)[0] : "okay";
      const compatible = getProperty(node, "compatible");
      for (let i = 0; i + stride <= cells.length; i += stride) {
        const size = cellNumber(cells.slice(i + parent.addressCells, i + stride));
        const base = parent.translate(cellNumber(cells.slice(i, i + parent.addressCells)), size);
        if (base === undefined || size === 0) continue;
        regions.push({
          path,
          base,
          size,
          compatible: compatible ? stringsOf(compatible) : [],
          disabled: statusText !== "okay" && statusText !== "ok",
        });
      }
    }
    const bus: Bus = {
      addressCells: cellCount(node, "#address-cells", 2),
      sizeCells: cellCount(node, "#size-cells", 1),
      translate: childTranslation(node, parent),
    };
    for (const child of node.children) visit(child, `${path}/${child.name}`, bus);
  };
  for (const child of tree.root.children) visit(child, `/${child.name}`, rootBus);
  return regions;
}

/** How a node maps its children's addresses into the CPU's, from its `ranges` property. */
function childTranslation(node: FdtNode, parent: Bus): Bus["translate"] {
  const ranges = getProperty(node, "ranges");
  if (!ranges || !parent.translate) return undefined;
  if (ranges.length === 0) return parent.translate; // identity mapping
  const childCells = cellCount(node, "#address-cells", 2);
  const sizeCells = cellCount(node, "#size-cells", 1);
  const stride = childCells + parent.addressCells + sizeCells;
  const cells = cellsOf(ranges);
  const windows: { child: number; parent: number; size: number }[] = [];
  for (let i = 0; i + stride <= cells.length; i += stride) {
    windows.push({
      child: cellNumber(cells.slice(i, i + childCells)),
      parent: cellNumber(cells.slice(i + childCells, i + childCells + parent.addressCells)),
      size: cellNumber(cells.slice(i + childCells + parent.addressCells, i + stride)),
    });
  }
  const parentTranslate = parent.translate;
  return (address, size) => {
    const w = windows.find((r) => address >= r.child && address + size <= r.child + r.size);
    return w ? parentTranslate(w.parent + (address - w.child), size) : undefined;
  };
}

/** The enabled-or-not nodes whose ranges contain `address`, most specific (smallest) first. */
export function nodesClaiming(regions: readonly DeviceTreeRegion[], address: number): DeviceTreeRegion[] {
  return regions
    .filter((r) => address >= r.base && address < r.base + r.size)
    .sort((a, b) => a.size - b.size);
}
