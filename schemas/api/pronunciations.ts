import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, TimestampSchema } from '../common.ts';

/** One of a commune's own readings (cách đọc): a hamlet's name, a local word, as it should be said aloud. */
export const PronunciationSchema = Type.Object(
  {
    id: IdSchema,
    communeId: IdSchema,
    written: Type.String({ description: 'as written in bulletins; matched as a whole word, case-sensitive' }),
    spoken: Type.String({ description: 'the words the synthesiser says instead' }),
    createdBy: Type.Union([Type.String(), Type.Null()]),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  },
  { $id: 'Pronunciation' },
);
export type Pronunciation = Static<typeof PronunciationSchema>;

const Written = Type.String({ minLength: 1, maxLength: 100, description: 'as written; at least one letter or digit' });
const Spoken = Type.String({ minLength: 1, maxLength: 300, description: 'Vietnamese words; at least one letter' });

export const CreatePronunciationSchema = Type.Object({ communeId: IdSchema, written: Written, spoken: Spoken }, { additionalProperties: false });
export type CreatePronunciation = Static<typeof CreatePronunciationSchema>;

export const UpdatePronunciationSchema = Type.Object(
  { written: Type.Optional(Written), spoken: Type.Optional(Spoken) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdatePronunciation = Static<typeof UpdatePronunciationSchema>;

export const PronunciationListQuerySchema = Type.Object({ communeId: IdSchema });
export const PronunciationParamsSchema = Type.Object({ id: IdSchema });
