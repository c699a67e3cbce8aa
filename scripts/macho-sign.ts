// Mach-O code signatures for the macOS single executables, done from any OS:
// `removeSignature` before postject injects the SEA blob (the official node binary's
// signature would no longer match), `adhocSign` afterwards (what `codesign --sign -` does:
// a CodeDirectory of SHA-256 page hashes, an empty requirement set and an empty CMS blob).
// macOS on Apple silicon refuses to run unsigned code; Intel Macs run it, but an ad-hoc
// signature is what Gatekeeper-free local runs expect there too.
// Only 64-bit little-endian thin executables (what the node packages ship) are handled.

import { createHash } from 'node:crypto';

const MH_MAGIC_64 = 0xfeedfacf;
const MH_EXECUTE = 0x2;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const HEADER_SIZE = 32;

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSMAGIC_REQUIREMENTS = 0xfade0c01;
const CSMAGIC_BLOBWRAPPER = 0xfade0b01;
const CSSLOT_CODEDIRECTORY = 0;
const CSSLOT_REQUIREMENTS = 2;
const CSSLOT_SIGNATURESLOT = 0x10000;
const CS_ADHOC = 0x2;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const CD_VERSION = 0x20400; // with exec segment fields
const CD_HEADER_SIZE = 88;
const CS_HASHTYPE_SHA256 = 2;
const HASH_SIZE = 32;
const PAGE_SHIFT = 12; // 4 KiB pages, as codesign uses
const PAGE_SIZE = 1 << PAGE_SHIFT;
const SPECIAL_SLOTS = 2; // -1 Info.plist (none), -2 requirements

export interface Segment {
  name: string;
  /** Offset of the load command in the file. */
  cmdOffset: number;
  vmsize: bigint;
  fileoff: number;
  filesize: number;
}

export interface MachO {
  ncmds: number;
  sizeofcmds: number;
  filetype: number;
  segments: Segment[];
  /** Lowest file offset of any section's data: load commands must end before it. */
  firstSectionOffset: number;
  codeSignature?: { cmdOffset: number; cmdsize: number; dataoff: number; datasize: number };
}

function cstring(buf: Buffer, start: number, len: number): string {
  const raw = buf.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? len : nul).toString('latin1');
}

export function parseMachO(buf: Buffer): MachO {
  if (buf.length < HEADER_SIZE || buf.readUInt32LE(0) !== MH_MAGIC_64)
    throw new Error('not a 64-bit little-endian Mach-O file (fat binaries are not handled)');
  const filetype = buf.readUInt32LE(12);
  const ncmds = buf.readUInt32LE(16);
  const sizeofcmds = buf.readUInt32LE(20);
  const segments: Segment[] = [];
  let firstSectionOffset = buf.length;
  let codeSignature: MachO['codeSignature'];
  let off = HEADER_SIZE;
  for (let i = 0; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(off);
    const cmdsize = buf.readUInt32LE(off + 4);
    if (cmdsize < 8 || off + cmdsize > HEADER_SIZE + sizeofcmds)
      throw new Error(`malformed load command ${i} at ${off}`);
    if (cmd === LC_SEGMENT_64) {
      const fileoff = Number(buf.readBigUInt64LE(off + 40));
      segments.push({
        name: cstring(buf, off + 8, 16),
        cmdOffset: off,
        vmsize: buf.readBigUInt64LE(off + 32),
        fileoff,
        filesize: Number(buf.readBigUInt64LE(off + 48)),
      });
      const nsects = buf.readUInt32LE(off + 64);
      for (let s = 0; s < nsects; s++) {
        const sect = off + 72 + s * 80;
        const size = Number(buf.readBigUInt64LE(sect + 40));
        const offset = buf.readUInt32LE(sect + 48);
        const flags = buf.readUInt32LE(sect + 64);
        const zerofill =
          (flags & 0xff) === 0x1 || (flags & 0xff) === 0xc || (flags & 0xff) === 0x12;
        if (!zerofill && size > 0 && offset > 0 && offset < firstSectionOffset)
          firstSectionOffset = offset;
      }
    } else if (cmd === LC_CODE_SIGNATURE) {
      codeSignature = {
        cmdOffset: off,
        cmdsize,
        dataoff: buf.readUInt32LE(off + 8),
        datasize: buf.readUInt32LE(off + 12),
      };
    }
    off += cmdsize;
  }
  return { ncmds, sizeofcmds, filetype, segments, firstSectionOffset, codeSignature };
}

function linkedit(m: MachO): Segment {
  const seg = m.segments.find((s) => s.name === '__LINKEDIT');
  if (!seg) throw new Error('no __LINKEDIT segment');
  return seg;
}

function setLinkeditSize(buf: Buffer, seg: Segment, filesize: number, pageSize: number): void {
  buf.writeBigUInt64LE(BigInt(filesize), seg.cmdOffset + 48);
  const vmsize = BigInt(Math.ceil(filesize / pageSize) * pageSize);
  buf.writeBigUInt64LE(vmsize, seg.cmdOffset + 32);
}

/** The VM page size the binary was laid out for (16 KiB on arm64, 4 KiB on x86_64). */
function vmPageSize(buf: Buffer): number {
  const CPU_TYPE_ARM64 = 0x0100000c;
  return buf.readUInt32LE(4) === CPU_TYPE_ARM64 ? 0x4000 : 0x1000;
}

/** Removes the code signature (load command and data at the end of __LINKEDIT). */
export function removeSignature(input: Buffer): Buffer {
  const m = parseMachO(input);
  const cs = m.codeSignature;
  if (!cs) return input;
  const last = HEADER_SIZE + m.sizeofcmds - cs.cmdsize;
  if (cs.cmdOffset !== last) throw new Error('LC_CODE_SIGNATURE is not the last load command');
  if (cs.dataoff + cs.datasize !== input.length)
    throw new Error('the code signature is not at the end of the file');
  const le = linkedit(m);
  if (le.fileoff + le.filesize !== input.length)
    throw new Error('__LINKEDIT does not end at the end of the file');
  const out = Buffer.from(input.subarray(0, cs.dataoff));
  out.fill(0, cs.cmdOffset, cs.cmdOffset + cs.cmdsize);
  out.writeUInt32LE(m.ncmds - 1, 16);
  out.writeUInt32LE(m.sizeofcmds - cs.cmdsize, 20);
  setLinkeditSize(out, le, cs.dataoff - le.fileoff, vmPageSize(out));
  return out;
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function blob(magic: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(magic, 0);
  head.writeUInt32BE(8 + payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** Signs an unsigned Mach-O executable ad hoc, like `codesign --sign - --identifier ID`. */
export function adhocSign(input: Buffer, identifier: string): Buffer {
  let m = parseMachO(input);
  if (m.codeSignature) {
    input = removeSignature(input);
    m = parseMachO(input);
  }
  const le = linkedit(m);
  if (le.fileoff + le.filesize !== input.length)
    throw new Error('__LINKEDIT does not end at the end of the file');
  const text = m.segments.find((s) => s.name === '__TEXT');
  if (!text) throw new Error('no __TEXT segment');

  // Sizes first: the load command and __LINKEDIT must describe the signature before hashing.
  const codeLimit = Math.ceil(input.length / 16) * 16;
  const nCodeSlots = Math.ceil(codeLimit / PAGE_SIZE);
  const ident = Buffer.from(`${identifier}\0`, 'utf8');
  const cdLength = CD_HEADER_SIZE + ident.length + (SPECIAL_SLOTS + nCodeSlots) * HASH_SIZE;
  const requirements = blob(CSMAGIC_REQUIREMENTS, Buffer.alloc(4)); // count 0
  const cms = blob(CSMAGIC_BLOBWRAPPER, Buffer.alloc(0));
  const indexCount = 3;
  const superHeader = 12 + indexCount * 8;
  const sigLength = superHeader + cdLength + requirements.length + cms.length;

  const cmdEnd = HEADER_SIZE + m.sizeofcmds;
  if (cmdEnd + 16 > m.firstSectionOffset)
    throw new Error('no room in the Mach-O header for LC_CODE_SIGNATURE');
  const out = Buffer.alloc(codeLimit + sigLength);
  input.copy(out, 0);
  out.writeUInt32LE(LC_CODE_SIGNATURE, cmdEnd);
  out.writeUInt32LE(16, cmdEnd + 4);
  out.writeUInt32LE(codeLimit, cmdEnd + 8);
  out.writeUInt32LE(sigLength, cmdEnd + 12);
  out.writeUInt32LE(m.ncmds + 1, 16);
  out.writeUInt32LE(m.sizeofcmds + 16, 20);
  setLinkeditSize(out, le, codeLimit + sigLength - le.fileoff, vmPageSize(out));

  // CodeDirectory.
  const cd = Buffer.alloc(cdLength);
  const hashOffset = CD_HEADER_SIZE + ident.length + SPECIAL_SLOTS * HASH_SIZE;
  cd.writeUInt32BE(CSMAGIC_CODEDIRECTORY, 0);
  cd.writeUInt32BE(cdLength, 4);
  cd.writeUInt32BE(CD_VERSION, 8);
  cd.writeUInt32BE(CS_ADHOC, 12);
  cd.writeUInt32BE(hashOffset, 16);
  cd.writeUInt32BE(CD_HEADER_SIZE, 20); // identOffset
  cd.writeUInt32BE(SPECIAL_SLOTS, 24);
  cd.writeUInt32BE(nCodeSlots, 28);
  cd.writeUInt32BE(codeLimit, 32);
  cd.writeUInt8(HASH_SIZE, 36);
  cd.writeUInt8(CS_HASHTYPE_SHA256, 37);
  cd.writeUInt8(0, 38); // platform
  cd.writeUInt8(PAGE_SHIFT, 39);
  // 40 spare2, 44 scatterOffset, 48 teamOffset, 52 spare3, 56 codeLimit64: all zero.
  cd.writeBigUInt64BE(BigInt(text.fileoff), 64); // execSegBase
  cd.writeBigUInt64BE(BigInt(text.filesize), 72); // execSegLimit
  cd.writeBigUInt64BE(BigInt(m.filetype === MH_EXECUTE ? CS_EXECSEG_MAIN_BINARY : 0), 80);
  ident.copy(cd, CD_HEADER_SIZE);
  // Special slots sit just before hashOffset in reverse order: slot -2 then slot -1.
  sha256(requirements).copy(cd, hashOffset - 2 * HASH_SIZE);
  for (let i = 0; i < nCodeSlots; i++) {
    const start = i * PAGE_SIZE;
    sha256(out.subarray(start, Math.min(start + PAGE_SIZE, codeLimit))).copy(
      cd,
      hashOffset + i * HASH_SIZE,
    );
  }

  // SuperBlob: index, then the blobs.
  const sig = out.subarray(codeLimit);
  sig.writeUInt32BE(CSMAGIC_EMBEDDED_SIGNATURE, 0);
  sig.writeUInt32BE(sigLength, 4);
  sig.writeUInt32BE(indexCount, 8);
  let at = superHeader;
  [
    [CSSLOT_CODEDIRECTORY, cd],
    [CSSLOT_REQUIREMENTS, requirements],
    [CSSLOT_SIGNATURESLOT, cms],
  ].forEach(([slot, data], i) => {
    sig.writeUInt32BE(slot as number, 12 + i * 8);
    sig.writeUInt32BE(at, 16 + i * 8);
    (data as Buffer).copy(sig, at);
    at += (data as Buffer).length;
  });
  return out;
}

export interface SignatureCheck {
  identifier: string;
  flags: number;
  pages: number;
}

/**
 * Re-reads an embedded ad-hoc signature and recomputes every page hash: what macOS's kernel
 * checks when it maps the pages. Throws on any mismatch.
 */
export function verifyAdhocSignature(buf: Buffer): SignatureCheck {
  const m = parseMachO(buf);
  const cs = m.codeSignature;
  if (!cs) throw new Error('not signed');
  const sig = buf.subarray(cs.dataoff, cs.dataoff + cs.datasize);
  if (sig.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE) throw new Error('bad SuperBlob magic');
  const count = sig.readUInt32BE(8);
  let cdAt = -1;
  let reqAt = -1;
  for (let i = 0; i < count; i++) {
    const slot = sig.readUInt32BE(12 + i * 8);
    if (slot === CSSLOT_CODEDIRECTORY) cdAt = sig.readUInt32BE(16 + i * 8);
    if (slot === CSSLOT_REQUIREMENTS) reqAt = sig.readUInt32BE(16 + i * 8);
  }
  if (cdAt < 0) throw new Error('no CodeDirectory');
  const cd = sig.subarray(cdAt, cdAt + sig.readUInt32BE(cdAt + 4));
  if (cd.readUInt32BE(0) !== CSMAGIC_CODEDIRECTORY) throw new Error('bad CodeDirectory magic');
  const hashOffset = cd.readUInt32BE(16);
  const identOffset = cd.readUInt32BE(20);
  const nSpecial = cd.readUInt32BE(24);
  const nCode = cd.readUInt32BE(28);
  const codeLimit = cd.readUInt32BE(32);
  const pageSize = 1 << cd.readUInt8(39);
  if (cd.readUInt8(37) !== CS_HASHTYPE_SHA256) throw new Error('not a SHA-256 CodeDirectory');
  if (codeLimit !== cs.dataoff) throw new Error('codeLimit is not the signature offset');
  if (nCode !== Math.ceil(codeLimit / pageSize)) throw new Error('wrong number of code slots');
  for (let i = 0; i < nCode; i++) {
    const start = i * pageSize;
    const want = cd.subarray(hashOffset + i * HASH_SIZE, hashOffset + (i + 1) * HASH_SIZE);
    if (!sha256(buf.subarray(start, Math.min(start + pageSize, codeLimit))).equals(want))
      throw new Error(`page ${i} hash mismatch`);
  }
  if (reqAt >= 0 && nSpecial >= 2) {
    const req = sig.subarray(reqAt, reqAt + sig.readUInt32BE(reqAt + 4));
    if (!sha256(req).equals(cd.subarray(hashOffset - 2 * HASH_SIZE, hashOffset - HASH_SIZE)))
      throw new Error('requirements hash mismatch');
  }
  const le = linkedit(m);
  if (le.fileoff + le.filesize !== buf.length)
    throw new Error('__LINKEDIT does not cover the signature');
  return {
    identifier: cstring(cd, identOffset, cd.length - identOffset),
    flags: cd.readUInt32BE(12),
    pages: nCode,
  };
}
