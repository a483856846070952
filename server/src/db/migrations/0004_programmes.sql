CREATE TABLE `jobs` (
	`name` text PRIMARY KEY NOT NULL,
	`due_at` integer NOT NULL,
	`interval_ms` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`last_run_at` integer,
	`last_ok_at` integer,
	`lease_until` integer
);
--> statement-breakpoint
CREATE TABLE `programme_occurrences` (
	`programme_id` text NOT NULL,
	`version` integer NOT NULL,
	`occurrence_at` integer NOT NULL,
	`start_at` integer NOT NULL,
	`end_at` integer NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`broadcast_id` text,
	`flag` text,
	`planned_at` integer NOT NULL,
	PRIMARY KEY(`programme_id`, `version`, `occurrence_at`),
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `occurrences_start_idx` ON `programme_occurrences` (`start_at`);--> statement-breakpoint
CREATE INDEX `occurrences_broadcast_idx` ON `programme_occurrences` (`broadcast_id`);--> statement-breakpoint
CREATE TABLE `programme_versions` (
	`programme_id` text NOT NULL,
	`version` integer NOT NULL,
	`state` text NOT NULL,
	`body` text NOT NULL,
	`content_id` text NOT NULL,
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
CREATE TABLE `programmes` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`area_id` text NOT NULL,
	`colour` text NOT NULL,
	`live_version` integer,
	`pending_version` integer,
	`latest_version` integer NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`deleted_by` text,
	`deleted_at` integer,
	FOREIGN KEY (`area_id`) REFERENCES `areas`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE INDEX `programmes_area_idx` ON `programmes` (`area_id`);--> statement-breakpoint
ALTER TABLE `areas` ADD `policy` text;--> statement-breakpoint
ALTER TABLE `broadcasts` ADD `programme_id` text;--> statement-breakpoint
CREATE INDEX `broadcasts_start_idx` ON `broadcasts` (`start_at`);