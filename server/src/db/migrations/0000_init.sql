CREATE TABLE `areas` (
	`id` text PRIMARY KEY NOT NULL,
	`parent_id` text,
	`name` text NOT NULL,
	`code` text,
	`kind` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`parent_id`) REFERENCES `areas`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE INDEX `areas_parent_idx` ON `areas` (`parent_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `areas_code_uq` ON `areas` (`code`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor_id` text,
	`actor_name` text NOT NULL,
	`action` text NOT NULL,
	`target_type` text,
	`target_id` text,
	`details` text,
	`ip` text
);
--> statement-breakpoint
CREATE INDEX `audit_at_idx` ON `audit_log` (`at`);--> statement-breakpoint
CREATE TABLE `cluster_state` (
	`cluster_id` text PRIMARY KEY NOT NULL,
	`online` integer DEFAULT false NOT NULL,
	`last_seen` integer,
	`changed_at` integer,
	`birth` text,
	`telemetry` text,
	`telemetry_at` integer,
	`fault_count` integer DEFAULT 0 NOT NULL,
	`malformed_count` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `clusters` (
	`id` text PRIMARY KEY NOT NULL,
	`area_id` text NOT NULL,
	`name` text NOT NULL,
	`serial` text NOT NULL,
	`model` text,
	`hardware_version` text,
	`firmware_version` text,
	`lat` real,
	`lon` real,
	`installed_on` text,
	`notes` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer,
	FOREIGN KEY (`area_id`) REFERENCES `areas`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE INDEX `clusters_area_idx` ON `clusters` (`area_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `clusters_serial_uq` ON `clusters` (`serial`);--> statement-breakpoint
CREATE TABLE `commands` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`name` text NOT NULL,
	`args` text,
	`issued_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`issued_by` text,
	`state` text NOT NULL,
	`reason` text,
	`replied_at` integer,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `commands_cluster_idx` ON `commands` (`cluster_id`,`issued_at`);--> statement-breakpoint
CREATE TABLE `device_credentials` (
	`cluster_id` text PRIMARY KEY NOT NULL,
	`secret_hash` text,
	`issued_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `device_events` (
	`cluster_id` text NOT NULL,
	`event_id` text NOT NULL,
	`ts` integer NOT NULL,
	`received_at` integer NOT NULL,
	`type` text NOT NULL,
	`payload` text NOT NULL,
	PRIMARY KEY(`cluster_id`, `event_id`),
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `device_events_ts_idx` ON `device_events` (`cluster_id`,`ts`);--> statement-breakpoint
CREATE TABLE `group_members` (
	`group_id` text NOT NULL,
	`cluster_id` text NOT NULL,
	PRIMARY KEY(`group_id`, `cluster_id`),
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `groups` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sessions_user_idx` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `speaker_outputs` (
	`cluster_id` text NOT NULL,
	`idx` integer NOT NULL,
	`label` text NOT NULL,
	`rated_w` real,
	PRIMARY KEY(`cluster_id`, `idx`),
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `telemetry` (
	`cluster_id` text NOT NULL,
	`ts` integer NOT NULL,
	`mains_v` real,
	`on_battery` integer NOT NULL,
	`battery_v` real NOT NULL,
	`battery_pct` real NOT NULL,
	`relay_tripped` integer NOT NULL,
	`amp_temp_c` real NOT NULL,
	`rssi_dbm` real NOT NULL,
	`volume` integer NOT NULL,
	`faulty_outputs` integer NOT NULL,
	`clock_offset_ms` real,
	FOREIGN KEY (`cluster_id`) REFERENCES `clusters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `telemetry_cluster_ts_idx` ON `telemetry` (`cluster_id`,`ts`);--> statement-breakpoint
CREATE TABLE `user_areas` (
	`user_id` text NOT NULL,
	`area_id` text NOT NULL,
	PRIMARY KEY(`user_id`, `area_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`area_id`) REFERENCES `areas`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`username` text NOT NULL,
	`display_name` text,
	`password_hash` text NOT NULL,
	`role` text NOT NULL,
	`locale` text DEFAULT 'vi' NOT NULL,
	`disabled_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_unique` ON `users` (`username`);