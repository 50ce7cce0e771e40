/**
 * Recording the SDK's traces (src/internal/tracing.ts) in tests: the tracing channels' events, and
 * OpenTelemetry spans through the SDK's in-memory exporter, registered as the global provider.
 */
import { type TracingChannelSubscribers, tracingChannel } from 'node:diagnostics_channel';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { TRACE_CHANNELS, type TraceMessage, type TraceOperation } from '../../src/internal/tracing.js';

export type TraceEvent = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';

export interface RecordedEvent {
  event: TraceEvent;
  /** A copy of the message as it was when this event was published (the SDK mutates one object). */
  message: TraceMessage;
  /** The very object published (one per operation). */
  same: TraceMessage;
}

export interface ChannelRecorder {
  events: RecordedEvent[];
  /** The events' names in order. */
  names(): TraceEvent[];
  stop(): void;
}

/** Subscribes to every event of `kind`'s tracing channel until `stop()`. */
export function recordChannel(kind: TraceOperation): ChannelRecorder {
  const channel = tracingChannel<unknown, TraceMessage>(TRACE_CHANNELS[kind]);
  const events: RecordedEvent[] = [];
  const on = (event: TraceEvent) => (message: TraceMessage) => {
    events.push({ event, message: structuredClone(message), same: message });
  };
  const subscribers: TracingChannelSubscribers<TraceMessage> = {
    start: on('start'),
    end: on('end'),
    asyncStart: on('asyncStart'),
    asyncEnd: on('asyncEnd'),
    error: on('error'),
  };
  channel.subscribe(subscribers);
  return { events, names: () => events.map((e) => e.event), stop: () => channel.unsubscribe(subscribers) };
}

export interface SpanRecorder {
  exporter: InMemorySpanExporter;
  /** The finished spans, optionally only those named `name`. */
  spans(name?: string): ReadableSpan[];
}

/** A provider for one test file: `create()` registers a new one as the global (after `trace.disable()`). */
export function newProvider(): { provider: BasicTracerProvider; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { provider, exporter };
}

/** The global tracer provider for the file (or describe block): registered before, removed after; spans cleared after each test. */
export function useSpans(): SpanRecorder {
  const { provider, exporter } = newProvider();
  beforeAll(() => {
    trace.disable();
    if (!trace.setGlobalTracerProvider(provider)) throw new Error('could not register the test tracer provider');
  });
  afterEach(() => exporter.reset());
  afterAll(async () => {
    trace.disable();
    await provider.shutdown();
  });
  return {
    exporter,
    spans: (name) => exporter.getFinishedSpans().filter((span) => name === undefined || span.name === name),
  };
}

/** Everything a span carries, as text: to search for a secret. */
export function spanText(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    status: span.status,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    links: span.links,
  });
}
