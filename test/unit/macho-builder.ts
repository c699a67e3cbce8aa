// The smallest Mach-O the signer and the trust check take, built byte by byte: an x86_64
// MH_EXECUTE with __TEXT (header and random code) and a small __LINKEDIT.
import { randomBytes } from 'node:crypto';

export const TEXT_SIZE = 0x4000;
export const LINKEDIT_SIZE = 0x120;

function segment(name: string, vmaddr: bigint, vmsize: number, fileoff: number, filesize: number) {
  const b = Buffer.alloc(72);
  b.writeUInt32LE(0x19, 0); // LC_SEGMENT_64
  b.writeUInt32LE(72, 4);
  b.write(name, 8, 'latin1');
  b.writeBigUInt64LE(vmaddr, 24);
  b.writeBigUInt64LE(BigInt(vmsize), 32);
  b.writeBigUInt64LE(BigInt(fileoff), 40);
  b.writeBigUInt64LE(BigInt(filesize), 48);
  b.writeUInt32LE(5, 56);
  b.writeUInt32LE(5, 60);
  return b;
}

export function syntheticMachO(): Buffer {
  const file = randomBytes(TEXT_SIZE + LINKEDIT_SIZE);
  const header = Buffer.alloc(32);
  header.writeUInt32LE(0xfeedfacf, 0);
  header.writeUInt32LE(0x01000007, 4);
  header.writeUInt32LE(3, 8);
  header.writeUInt32LE(2, 12);
  header.writeUInt32LE(2, 16);
  header.writeUInt32LE(144, 20);
  const cmds = Buffer.concat([
    segment('__TEXT', 0x100000000n, TEXT_SIZE, 0, TEXT_SIZE),
    segment('__LINKEDIT', 0x100004000n, 0x1000, TEXT_SIZE, LINKEDIT_SIZE),
  ]);
  // Zeroed padding after the load commands, as linkers leave it.
  file.fill(0, 0, 0x1000);
  header.copy(file, 0);
  cmds.copy(file, 32);
  return file;
}
