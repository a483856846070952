CREATE TABLE `tts_pronunciations` (
	`id` text PRIMARY KEY NOT NULL,
	`commune_id` text NOT NULL,
	`written` text NOT NULL,
	`spoken` text NOT NULL,
	`created_by` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`commune_id`) REFERENCES `areas`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tts_pronunciations_written_uq` ON `tts_pronunciations` (`commune_id`,`written`);