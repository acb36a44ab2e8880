// RE2 patterns on JS RegExp: translated spellings, and the constructs RE2 refuses.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileGoRegex, RegexSyntaxError } from './regex.ts';

test('RE2 spellings JS lacks are translated', () => {
  const cases: [string, string, boolean][] = [
    ['(?i)^web', 'WEB-1', true],
    ['(?P<env>prod|qa)-\\d+', 'qa-12', true],
    ['\\Aweb\\z', 'web', true],
    ['\\Aweb\\z', 'web\n', false],
    ['^\\pL+$', 'héllo', true],
    ['^\\p{Greek}+$', 'αβ', true],
    ['^[[:alpha:]]+[[:digit:]]$', 'abc1', true],
    ['^[]a]+$', ']a]', true],
    ['^[^]a]$', 'b', true],
    ['a.c', 'a\nc', false],
    ['(?s)a.c', 'a\nc', true],
  ];
  for (const [pattern, input, want] of cases) assert.equal(compileGoRegex(pattern).test(input), want, `${pattern} on ${JSON.stringify(input)}`);
});

test('lookarounds, backreferences and invalid patterns are rejected with Go texts', () => {
  const cases: [string, string][] = [
    ['a(?=b)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    ['a(?!b)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?!`'],
    ['(?<=a)b', 'error parsing regexp: invalid or unsupported Perl syntax: `(?<=`'],
    ['(?<!a)b', 'error parsing regexp: invalid or unsupported Perl syntax: `(?<!`'],
    ['(a)\\1', 'error parsing regexp: invalid escape sequence: `\\1`'],
  ];
  for (const [pattern, message] of cases) assert.throws(() => compileGoRegex(pattern), { name: 'Error', message }, pattern);
  assert.throws(() => compileGoRegex('(unclosed'), RegexSyntaxError);
});
