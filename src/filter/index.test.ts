// Evaluation as go-bexpr does it over Consul-shaped items: every operator on strings, numbers,
// bools, lists and maps, missing fields, schemas, collections, and the examples of Consul's docs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError, InternalError } from '../errors.ts';
import { compileFilter, filterList, filterRecord, type FieldSchema } from './index.ts';

const redis = {
  ID: 'redis1', Service: 'redis', Tags: ['primary', 'production'], Meta: { env: 'production', 'with space': 'yes' },
  Port: 1234, Address: '', Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, Ratio: 0.5,
  Checks: [{ Name: 'http', Status: 'passing' }, { Name: 'tcp', Status: 'critical' }],
};

const match = (expr: string, value: unknown = redis): boolean => compileFilter(expr).matches(value);

const serviceSchema: FieldSchema = {
  ID: 'string', Service: 'string', Tags: { list: 'string' }, Meta: { map: 'string' }, Port: 'int', Address: 'string',
  Weights: { Passing: 'int', Warning: 'int' }, EnableTagOverride: 'bool', Ratio: 'float', Kind: 'string',
  Checks: { list: { Name: 'string', Status: 'string' } }, Proxy: { DestinationServiceName: 'string', Upstreams: { list: 'any' } },
};

describe('operators', () => {
  const table: [string, boolean][] = [
    ['Service == redis', true], ['Service == "redis"', true], ['Service == `redis`', true], ['Service != redis', false],
    ['Service == Redis', false], ['Address == ""', true], ['Port == 1234', true], ['Port == "1234"', true],
    ['Port == "0x4d2"', true], ['Port != 1235', true], ['Weights.Passing == 1', true], ['Ratio == 0.5', true],
    ['EnableTagOverride == false', true], ['EnableTagOverride == F', true], ['EnableTagOverride != true', true],
    ['"primary" in Tags', true], ['primary in Tags', true], ['"prim" in Tags', false], ['Tags contains production', true],
    ['Tags not contains qa', true], ['"qa" not in Tags', true], ['"env" in Meta', true], ['Meta contains "with space"', true],
    ['"production" in Meta', false], ['Service contains "edi"', true], ['"dis" in Service', true], ['Service not contains x', true],
    ['Tags is empty', false], ['Tags is not empty', true], ['Address is empty', true], ['Meta is not empty', true],
    ['Service matches "^re.*s$"', true], ['Service matches "^RE"', false], ['Service matches "(?i)^RE"', true],
    ['Service not matches "^x"', true], ['Meta.env matches `prod(uction)?`', true], ['Meta["with space"] == yes', true],
    ['"/Meta/env" == production', true], ['Checks.1.Status == critical', true], ['"/Checks/0/Name" == http', true],
  ];
  for (const [expr, want] of table) test(`${expr} → ${want}`, () => assert.equal(match(expr), want));
});

describe('logic', () => {
  test('precedence: not > and > or, parentheses override', () => {
    assert.equal(match('Service == x and Port == 1 or Port == 1234'), true);
    assert.equal(match('Service == x and (Port == 1 or Port == 1234)'), false);
    assert.equal(match('not Service == x and Port == 1234'), true);
    assert.equal(match('not (Service == redis and Port == 1234)'), false);
    assert.equal(match('( Service == redis )'), true);
  });

  test('and/or short-circuit: the right side is not evaluated (no error from it)', () => {
    assert.equal(match('Service == x and Port == abc'), false);
    assert.equal(match('Service == redis or Port == abc'), true);
  });
});

describe('missing fields', () => {
  test('a missing map key answers by operator: ==, in, matches, is not empty false; the negations true', () => {
    for (const [expr, want] of [
      ['Meta.nope == x', false], ['Meta.nope != x', true], ['x in Meta.nope', false], ['x not in Meta.nope', true],
      ['Meta.nope is empty', true], ['Meta.nope is not empty', false], ['Meta.nope matches x', false], ['Meta.nope not matches x', true],
    ] as const) {
      assert.equal(match(expr), want, expr);
    }
  });

  test('null lists and maps (Go nil) are empty', () => {
    const item = { Tags: null, Meta: null };
    assert.equal(match('Tags is empty', item), true);
    assert.equal(match('x in Tags', item), false);
    assert.equal(match('Meta.env == x', item), false);
  });

  test('with a schema, an omitted struct field has its zero value', () => {
    const f = compileFilter('Kind == "" and Proxy.DestinationServiceName is empty and Port != 1', { fields: serviceSchema });
    assert.equal(f.matches({}), true);
  });
});

describe('schemas', () => {
  test('an unknown selector is a 400 at compile time', () => {
    for (const [expr, sel] of [['Foo == x', 'Foo'], ['Weights.Critical == 1', 'Weights.Critical'], ['Port.x == 1', 'Port.x'], ['any Nope as n { n == x }', 'Nope']]) {
      assert.throws(() => compileFilter(expr, { fields: serviceSchema }), (err: unknown) => {
        assert.ok(err instanceof BadRequestError);
        assert.equal(err.message, `Selector "${sel}" is not valid`);
        return true;
      });
    }
  });

  test('map keys, list indexes, any-typed subtrees and collection bindings are valid selectors', () => {
    for (const expr of ['Meta.anything == x', 'Tags.0 == x', 'Proxy.Upstreams.0.Whatever == x', 'any Checks as c { c.Status == passing }']) {
      assert.doesNotThrow(() => compileFilter(expr, { fields: serviceSchema }), expr);
    }
  });
});

describe('evaluation errors (Consul answers 500 with the text)', () => {
  const cases: [string, string][] = [
    ['Port == abc', 'error getting match value in expression: strconv.ParseInt: parsing "abc": invalid syntax'],
    ['EnableTagOverride == yes', 'error getting match value in expression: strconv.ParseBool: parsing "yes": invalid syntax'],
    ['Meta == x', 'unable to find suitable primitive comparison function for matching'],
    ['x in Port', 'Cannot perform in/contains operations on type int for selector: "Port"'],
    ['Port is empty', 'cannot perform is-empty operations on type int for selector: "Port"'],
    ['Port matches "1"', 'Value of type int is not convertible to []byte'],
    ['Service matches "(?=x)"', 'Failed to compile regular expression "(?=x)": error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    ['Service matches "(a)\\\\1"', 'Failed to compile regular expression "(a)\\\\1": error parsing regexp: invalid escape sequence: `\\1`'],
    ['Service.x == 1', 'error finding value in datum: /Service/x at part 1: cannot find "x" in string'],
    ['all Port as p { p == 1 }', 'Port is not a list or a map'],
  ];
  for (const [expr, message] of cases) {
    test(expr, () => {
      assert.throws(() => match(expr), (err: unknown) => {
        assert.ok(err instanceof InternalError);
        assert.equal(err.message, message);
        return true;
      });
    });
  }
});

describe('collections', () => {
  test('any/all over lists bind the element; over maps the key', () => {
    assert.equal(match('any Checks as c { c.Status == critical }'), true);
    assert.equal(match('all Checks as c { c.Status == passing }'), false);
    assert.equal(match('all Tags as t { t matches "^p" }'), true);
    assert.equal(match('any Meta as k { k == env }'), true);
    assert.equal(match('any Meta as _, v { v == yes }'), true);
    assert.equal(match('any Tags as i, _ { i == 1 }'), true);
    assert.equal(match('all Meta.nope as x { x == y }'), true);
    assert.equal(match('any Meta.nope as x { x == y }'), false);
  });

  test('same name for index and value is an error', () => {
    assert.throws(() => match('any Tags as x, x { x == y }'), /"x" cannot be used as a placeholder for both the index and the value/);
  });
});

describe('filterList and filterRecord', () => {
  const services = {
    redis1: { ID: 'redis1', Service: 'redis', Tags: ['primary', 'production'], Meta: { env: 'production', foo: 'bar' }, Port: 1234 },
    redis2: { ID: 'redis2', Service: 'redis', Tags: ['secondary', 'production'], Meta: { env: 'production', foo: 'bar' }, Port: 1235 },
    redis3: { ID: 'redis3', Service: 'redis', Tags: ['primary', 'qa'], Meta: { env: 'qa' }, Port: 1234 },
  };
  const list = Object.values(services);

  // examples from Consul's api-docs/features/filtering.mdx and the endpoint pages
  const docs: [string, string[]][] = [
    ['Meta.env == "qa"', ['redis3']],
    ['Service == "redis" and "primary" in Tags', ['redis1', 'redis3']],
    ['Tags contains "primary"', ['redis1', 'redis3']],
    ['Meta.foo == bar and Port != 1234', ['redis2']],
    ['Meta.foo is empty', ['redis3']],
    ['ID matches "redis[12]"', ['redis1', 'redis2']],
    ['"production" in Tags and not ("secondary" in Tags)', ['redis1']],
  ];
  for (const [expr, ids] of docs) {
    test(expr, () => {
      assert.deepEqual(filterList(list, expr).map((s) => s.ID), ids);
      assert.deepEqual(Object.keys(filterRecord(services, expr)), ids);
    });
  }

  test('no expression keeps everything; an invalid one is a 400', () => {
    assert.equal(filterList(list), list);
    assert.equal(filterList(list, ''), list);
    assert.throws(() => filterList(list, 'Service =='), BadRequestError);
  });

  test("the catalog example: NodeMeta.os == linux, and the health example: ServiceName != ''", () => {
    const nodes = [{ Node: 'node-1', NodeMeta: { os: 'darwin' }, ServiceName: '' }, { Node: 'node-2', NodeMeta: { os: 'linux' }, ServiceName: 'web' }];
    assert.deepEqual(filterList(nodes, 'NodeMeta.os == "linux"').map((n) => n.Node), ['node-2']);
    assert.deepEqual(filterList(nodes, 'ServiceName != ""').map((n) => n.Node), ['node-2']);
  });
});
