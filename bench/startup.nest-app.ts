import { Injectable, Module } from '@nestjs/common';

/** A provider with no library around it: what the Nest-only start-up run creates. */
@Injectable()
export class PlainService {
  handle(): string {
    return 'ok';
  }
}

/** The Nest-only application of `--startup`, the baseline the library's share is measured against. */
@Module({ providers: [PlainService] })
export class PlainAppModule {}
