import { Type, type Static } from '@sinclair/typebox';
import { IdSchema } from '../common.ts';
import { ContentSchema, TtsRequestSchema } from './content.ts';

/**
 * A preview or dry run: the TTS request plus whose pronunciation list applies. Without `communeId` the caller's
 * own commune is used when they have exactly one in scope; otherwise only the built-in rules apply.
 */
export const TtsPreviewRequestSchema = Type.Composite([
  TtsRequestSchema,
  Type.Object({ communeId: Type.Optional(Type.String({ ...IdSchema, description: 'commune (or an area inside it) whose readings apply' })) }),
]);
export type TtsPreviewRequest = Static<typeof TtsPreviewRequestSchema>;

/** What will be spoken, as the synthesiser receives it. */
const NormalisedText = Type.String({ description: 'the text after the commune readings and the reading rules: exactly what is synthesised' });

export const TtsNormalisedSchema = Type.Object({
  normalisedText: NormalisedText,
  communeId: Type.Union([IdSchema, Type.Null()], { description: 'the commune whose readings were applied; null = none' }),
});
export type TtsNormalised = Static<typeof TtsNormalisedSchema>;

/** The preview's answer: the content item as before (fields unchanged), plus the text that was spoken. */
export const TtsPreviewSchema = Type.Composite([ContentSchema, Type.Object({ normalisedText: NormalisedText })]);
export type TtsPreview = Static<typeof TtsPreviewSchema>;
