import 'reflect-metadata';
import { type DynamicModule, Inject, Injectable, type LoggerService, Module } from '@nestjs/common';
import { OnTenancyEvent, type TenancyEvent, TenancyModule, type TenancyModuleOptions } from 'nestjs-tenancy';
import { HandlerBehaviour } from './handler.behaviour.js';

/**
 * The library side of the benchmark: an ordinary Nest application whose handlers
 * are discovered from `@OnTenancyEvent` methods, exactly as a host service would
 * write them. The handler's work is the shared {@link HandlerBehaviour}.
 */
@Injectable()
export class BenchHandlers {
  // Injected by class: proves constructor DI metadata survived the tsc build.
  constructor(@Inject(HandlerBehaviour) private readonly behaviour: HandlerBehaviour) {}

  @OnTenancyEvent('org', '*')
  onOrg(event: TenancyEvent): Promise<void> {
    return this.behaviour.handle(event);
  }

  @OnTenancyEvent('project', '*')
  onProject(event: TenancyEvent): Promise<void> {
    return this.behaviour.handle(event);
  }
}

@Module({})
export class BenchAppModule {
  static register(options: TenancyModuleOptions, behaviour: HandlerBehaviour): DynamicModule {
    return {
      module: BenchAppModule,
      imports: [TenancyModule.forRoot(options)],
      providers: [{ provide: HandlerBehaviour, useValue: behaviour }, BenchHandlers],
    };
  }
}

/**
 * Drops log lines but counts warnings and errors: the poison scenario logs one per
 * retry, and printing thousands of lines would measure the terminal. Set
 * BENCH_VERBOSE=1 to see them.
 */
export class CountingLogger implements LoggerService {
  problems = 0;
  private readonly echo = process.env['BENCH_VERBOSE'] === '1';

  log(message: unknown): void {
    this.print('log', message);
  }
  warn(message: unknown): void {
    this.problems += 1;
    this.print('warn', message);
  }
  error(message: unknown): void {
    this.problems += 1;
    this.print('error', message);
  }
  debug(): void {}
  verbose(): void {}

  private print(level: string, message: unknown): void {
    if (this.echo) console.error(`[library ${level}] ${String(message)}`);
  }
}
