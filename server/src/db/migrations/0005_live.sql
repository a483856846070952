CREATE TABLE `live_recordings` (
	`broadcast_id` text NOT NULL,
	`content_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`broadcast_id`, `content_id`)
);
--> statement-breakpoint
CREATE INDEX `live_recordings_created_idx` ON `live_recordings` (`created_at`);--> statement-breakpoint
CREATE TABLE `live_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`broadcast_id` text NOT NULL,
	`state` text NOT NULL,
	`created_by` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE TABLE `relay_sources` (
	`id` text PRIMARY KEY NOT NULL,
	`area_id` text NOT NULL,
	`name` text NOT NULL,
	`primary_url` text NOT NULL,
	`backup_urls` text NOT NULL,
	`filler_content_id` text,
	`stall_s` integer NOT NULL,
	`retry_s` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`area_id`) REFERENCES `areas`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `relay_sources_area_idx` ON `relay_sources` (`area_id`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_programme_versions` (
	`programme_id` text NOT NULL,
	`version` integer NOT NULL,
	`state` text NOT NULL,
	`body` text NOT NULL,
	`content_id` text,
	`duration_ms` integer NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`approved_by` text,
	`approved_at` integer,
	`reject_reason` text,
	PRIMARY KEY(`programme_id`, `version`),
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`content_id`) REFERENCES `content`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_programme_versions`("programme_id", "version", "state", "body", "content_id", "duration_ms", "created_by", "created_at", "approved_by", "approved_at", "reject_reason") SELECT "programme_id", "version", "state", "body", "content_id", "duration_ms", "created_by", "created_at", "approved_by", "approved_at", "reject_reason" FROM `programme_versions`;--> statement-breakpoint
DROP TABLE `programme_versions`;--> statement-breakpoint
ALTER TABLE `__new_programme_versions` RENAME TO `programme_versions`;--> statement-breakpoint
PRAGMA foreign_keys=ON;