import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';

// If the test transform ever stops emitting `design:paramtypes`, Nest's constructor
// injection silently passes `undefined` and every other test fails in confusing
// ways. This one fails first, and says why.
@Injectable()
class Dependency {
  readonly name = 'dependency';
}

@Injectable()
class Dependent {
  constructor(readonly dependency: Dependency) {}
}

describe('decorator metadata canary', () => {
  it('emits constructor parameter types for Nest DI', () => {
    expect(Reflect.getMetadata('design:paramtypes', Dependent)).toEqual([Dependency]);
  });

  it('injects a constructor dependency through a real Nest module', async () => {
    const moduleRef = await Test.createTestingModule({ providers: [Dependency, Dependent] }).compile();
    expect(moduleRef.get(Dependent).dependency).toBeInstanceOf(Dependency);
    await moduleRef.close();
  });
});
