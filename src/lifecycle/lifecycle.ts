import { Injectable, Module } from '@nestjs/common';

/** Where the gateway is in its life. Once draining, `/readyz` fails and every answer closes its connection. */
@Injectable()
export class Lifecycle {
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  beginDrain(): void {
    this.#draining = true;
  }
}

@Module({ providers: [Lifecycle], exports: [Lifecycle] })
export class LifecycleModule {}
