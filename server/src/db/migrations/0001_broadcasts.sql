CREATE TABLE `airing_reports` (
	`cluster_id` text NOT NULL,
	`report_id` text NOT NULL,
	`broadcast_id` text NOT NULL,
	`seq` integer NOT NULL,
	`state` text NOT NULL,
	`device_ts` integer NOT NULL,
	`server_ts` real,
	`received_at` integer NOT NULL,
	`reason` text,
	`position_ms` integer,
	PRIMARY KEY(`cluster_id`, `report_id`),
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `airing_reports_bc_idx` ON `airing_reports` (`broadcast_id`);--> statement-breakpoint
CREATE TABLE `airings` (
	`broadcast_id` text NOT NULL,
	`cluster_id` text NOT NULL,
	`seq` integer NOT NULL,
	`state` text NOT NULL,
	`outputs` text,
	`scheduled_at` integer,
	`received_at` integer,
	`downloaded_at` integer,
	`started_at` integer,
	`finished_at` integer,
	`reason` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`broadcast_id`, `cluster_id`, `seq`),
	FOREIGN KEY (`broadcast_id`) REFERENCES `broadcasts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `airings_cluster_idx` ON `airings` (`cluster_id`,`updated_at`);--> statement-breakpoint
CREATE TABLE `broadcasts` (
	`id` text PRIMARY KEY NOT NULL,
	`title` text NOT NULL,
	`level` text NOT NULL,
	`state` text NOT NULL,
	`source` text NOT NULL,
	`targets` text NOT NULL,
	`content_id` text,
	`start_at` integer,
	`expires_at` integer,
	`volume` integer,
	`repeat_count` integer DEFAULT 1 NOT NULL,
	`repeat_interval_s` integer DEFAULT 0 NOT NULL,
	`on_preempt` text DEFAULT 'resume' NOT NULL,
	`priority_order` integer,
	`max_wait_s` integer,
	`created_by` text,
	`created_at` integer NOT NULL,
	`approved_by` text,
	`approved_at` integer,
	`reject_reason` text,
	`cancelled_by` text,
	`cancelled_at` integer,
	FOREIGN KEY (`content_id`) REFERENCES `content`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `broadcasts_state_idx` ON `broadcasts` (`state`,`start_at`);--> statement-breakpoint
CREATE INDEX `broadcasts_created_idx` ON `broadcasts` (`created_at`);--> statement-breakpoint
CREATE TABLE `content` (
	`id` text PRIMARY KEY NOT NULL,
	`sha256` text,
	`state` text NOT NULL,
	`error` text,
	`source` text NOT NULL,
	`title` text,
	`original_name` text,
	`original_sha256` text,
	`original_bytes` integer,
	`bytes` integer,
	`duration_ms` integer,
	`loudness_lufs` real,
	`true_peak_dbtp` real,
	`input_loudness_lufs` real,
	`created_by` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `content_sha_idx` ON `content` (`sha256`);--> statement-breakpoint
CREATE INDEX `content_original_idx` ON `content` (`original_sha256`);--> statement-breakpoint
CREATE TABLE `manifest_items` (
	`cluster_id` text NOT NULL,
	`item_id` text NOT NULL,
	`broadcast_id` text NOT NULL,
	`rev` integer NOT NULL,
	`removed` integer DEFAULT false NOT NULL,
	`item` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`cluster_id`, `item_id`),
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `manifest_rev_idx` ON `manifest_items` (`cluster_id`,`rev`);--> statement-breakpoint
CREATE TABLE `manifest_versions` (
	`cluster_id` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`floor` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `tts_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`content_id` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`content_id`) REFERENCES `content`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `areas` ADD `approval_policy` text;