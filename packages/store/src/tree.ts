import { CompactRange, TILE_HEIGHT, hashNodes, type Hasher, type NodeId } from '@stele/log';
import type { LogDriver } from './driver.js';

/**
 * Reads any complete node of the tree from a driver. Drivers keep hashes only
 * at tile levels (0, 8, 16, ...); a node in between is folded from at most
 * 2^7 stored hashes of the tile level below it.
 */
export async function readNode(driver: LogDriver, hasher: Hasher, node: NodeId): Promise<Uint8Array> {
  const base = node.level - (node.level % TILE_HEIGHT);
  const span = 2 ** (node.level - base);
  // A power of two of hashes: their tree hash is the node's.
  return hashNodes(hasher, await driver.readHashes(base, node.index * span, (node.index + 1) * span));
}

/** Reads many nodes. */
export function readNodes(driver: LogDriver, hasher: Hasher, nodes: readonly NodeId[]): Promise<Uint8Array[]> {
  return Promise.all(nodes.map((n) => readNode(driver, hasher, n)));
}

/** Rebuilds the compact range of the tree of a given size from stored hashes. */
export async function readRange(driver: LogDriver, hasher: Hasher, size: number): Promise<CompactRange> {
  return CompactRange.fromNodes(hasher, size, await readNodes(driver, hasher, CompactRange.nodesFor(size)));
}
