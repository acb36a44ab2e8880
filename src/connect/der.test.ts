// Tests for the DER writer: known encodings from X.690 and RFC 5280.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bitString, directoryString, integer, oid, sequence, time, tlv } from './der.ts';

const hex = (b: Buffer) => b.toString('hex');

describe('DER writer', () => {
  it('writes short and long lengths', () => {
    assert.equal(hex(tlv(0x04, Buffer.alloc(3))), '0403000000');
    assert.equal(hex(tlv(0x04, Buffer.alloc(200))).slice(0, 6), '0481c8');
    assert.equal(hex(tlv(0x04, Buffer.alloc(300))).slice(0, 8), '0482012c');
    assert.equal(hex(sequence()), '3000');
  });

  it('writes non-negative integers minimally, with a zero byte before a high bit', () => {
    assert.equal(hex(integer(0)), '020100');
    assert.equal(hex(integer(2)), '020102');
    assert.equal(hex(integer(127)), '02017f');
    assert.equal(hex(integer(128)), '02020080');
    assert.equal(hex(integer(256)), '02020100');
    assert.equal(hex(integer(2 ** 53 - 1)), '02071fffffffffffff');
    assert.equal(hex(integer(Buffer.from([0, 0, 0x90]))), '0202' + '0090');
    assert.throws(() => integer(-1), RangeError);
  });

  it('writes object identifiers in base 128', () => {
    assert.equal(hex(oid('2.5.29.19')), '0603551d13');
    assert.equal(hex(oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
    assert.equal(hex(oid('1.2.840.113549.1.1.11')), '06092a864886f70d01010b');
  });

  it('writes UTCTime before 2050 and GeneralizedTime from 2050, at whole seconds', () => {
    assert.equal(time(Date.UTC(2025, 0, 15, 12, 30, 45, 678)).toString('latin1').slice(2), '250115123045Z');
    assert.equal(time(Date.UTC(2025, 0, 15))[0], 0x17);
    assert.equal(time(Date.UTC(2050, 0, 1)).toString('latin1').slice(2), '20500101000000Z');
    assert.equal(time(Date.UTC(2050, 0, 1))[0], 0x18);
  });

  it('picks PrintableString when it can, else UTF8String', () => {
    assert.equal(directoryString('pri-1.consul')[0], 0x13);
    assert.equal(directoryString('a_b')[0], 0x0c);
    assert.equal(directoryString('é')[0], 0x0c);
  });

  it('writes bit strings with their unused-bit count', () => {
    assert.equal(hex(bitString(Buffer.from([0x86]), 1)), '03020186');
  });
});
