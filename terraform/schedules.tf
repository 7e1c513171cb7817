# The schedules cron runs on the management instance, and the crontab rendered from them.
#
# This file only reads var.schedules, var.schedule_log_dir, local.function_ids,
# local.schedule_default_compartment_id and local.notification_topic_id (alerts.tf), so test/terraform renders local.crontab with the real
# Terraform (no provider needed) and compares it with scripts/crontab.sh: keep the two in step.

variable "schedules" {
  type = list(object({
    name      = string
    cron      = string
    time_zone = string
    function  = string
    # The request body of start-compute / stop-compute. A body that names no target (instance_id,
    # instance_ids or compartment_id) gets "compartment_id" = the target compartment.
    body = object({
      instance_id     = optional(string)
      instance_ids    = optional(list(string))
      compartment_id  = optional(string)
      freeform_tags   = optional(map(string))
      defined_tags    = optional(map(map(string)))
      wait            = optional(bool)
      timeout_seconds = optional(number)
      dry_run         = optional(bool)
      action          = optional(string)
    })
    # "failures" (default): schedule.sh publishes a run that does not end in 0 to the alerts topic;
    # "always": every run (a digest).
    notify = optional(string)
    # Holidays: YYYY-MM-DD dates, in time_zone, on which the schedule invokes nothing.
    skip_dates = optional(list(string))
    # Hours between two runs, for the dead-man's switch alarm (alerts.tf): default 24 for a daily
    # schedule, 72 for a weekday one (1-5), none for other calendars; 0 turns the alarm off.
    expected_gap_hours = optional(number)
  }))
  description = "Start/stop schedules run by cron on the management instance: name ([a-z0-9-]), cron (5 fields), time_zone (IANA, via CRON_TZ), function (start | stop), body (the function's request), notify (failures | always), skip_dates ([YYYY-MM-DD] holidays in time_zone), expected_gap_hours (dead-man's switch; 0 off)."

  default = [
    {
      name      = "start-office-hours"
      cron      = "0 7 * * 1-5"
      time_zone = "UTC"
      function  = "start"
      body = {
        freeform_tags = { "power-schedule" = "office-hours" }
      }
    },
    {
      name      = "stop-office-hours"
      cron      = "0 19 * * 1-5"
      time_zone = "UTC"
      function  = "stop"
      body = {
        freeform_tags = { "power-schedule" = "office-hours" }
        action        = "SOFTSTOP"
      }
    },
  ]

  validation {
    condition     = alltrue([for s in var.schedules : can(regex("^[a-z0-9][a-z0-9-]{0,62}$", s.name))])
    error_message = "Each schedule name must be 1-63 characters: lowercase letters, digits and '-', starting with a letter or digit."
  }

  validation {
    condition     = length(distinct([for s in var.schedules : s.name])) == length(var.schedules)
    error_message = "Schedule names must be unique (they name the log and the lock of each schedule)."
  }

  validation {
    condition     = alltrue([for s in var.schedules : length(regexall("\\S+", s.cron)) == 5])
    error_message = "Each schedule cron must have 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 7 * * 1-5\"."
  }

  # The same rules as scripts/crontab.sh: a crontab with one bad line is refused whole by cronie.
  validation {
    condition = alltrue(flatten([
      for s in var.schedules : [
        for i, field in regexall("\\S+", s.cron) : [
          for item in split(",", field) : try(
            # "||" and "&&" do not short-circuit in Terraform; the conditionals below do.
            !can(regex("^(\\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[1-9][0-9]*)?$", item)) ? false : (
              split("/", item)[0] == "*" ? true : alltrue([
                # The values of "a" or "a-b": numbers, or names (month and day-of-week only).
                for values in [[
                  for e in split("-", split("/", item)[0]) : can(tonumber(e)) ? tonumber(e) : (
                    i == 3 ? index(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], lower(e)) + 1 :
                    index(["sun", "mon", "tue", "wed", "thu", "fri", "sat"], lower(e)) + (i == 4 ? 0 : 100)
                  )
                ]] :
                alltrue([for v in values : v >= [0, 0, 1, 1, 0][i] && v <= [59, 23, 31, 12, 7][i]]) &&
                values[0] <= values[length(values) - 1]
              ])
            ),
            false,
          )
        ]
      ]
    ]))
    error_message = "Each schedule cron field must be *, a number, a name (jan-dec in month, sun-sat in day-of-week), a range a-b (not backwards) or a list, with an optional /step, within minute 0-59, hour 0-23, day-of-month 1-31, month 1-12, day-of-week 0-7."
  }

  validation {
    condition     = alltrue([for s in var.schedules : can(regex("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+)+)$", s.time_zone))])
    error_message = "Each schedule time_zone must be an IANA name such as Europe/Paris, or UTC."
  }

  validation {
    condition     = alltrue([for s in var.schedules : contains(["start", "stop"], s.function)])
    error_message = "Each schedule function must be \"start\" or \"stop\"."
  }

  validation {
    condition     = alltrue([for s in var.schedules : s.notify == null ? true : contains(["failures", "always"], s.notify)])
    error_message = "Each schedule notify must be \"failures\" or \"always\" (or left out: failures)."
  }

  # The same rule as scripts/crontab.sh: a real calendar date (2026-02-30 is refused).
  validation {
    condition = alltrue(flatten([
      for s in var.schedules : [
        for d in coalesce(s.skip_dates, []) : can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", d)) ? can(formatdate("YYYY", "${d}T00:00:00Z")) : false
      ]
    ]))
    error_message = "Each schedule skip_dates entry must be a date YYYY-MM-DD that exists, e.g. 2026-12-25 (in the schedule's time_zone). Offending: ${join(", ", flatten([for s in var.schedules : [for d in coalesce(s.skip_dates, []) : "${s.name}: ${d}" if !(can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", d)) ? can(formatdate("YYYY", "${d}T00:00:00Z")) : false)]]))}."
  }

  validation {
    condition     = alltrue([for s in var.schedules : s.expected_gap_hours == null ? true : (s.expected_gap_hours == 0 || (s.expected_gap_hours >= 1 && s.expected_gap_hours <= 71)) && floor(s.expected_gap_hours) == s.expected_gap_hours])
    error_message = "Each schedule expected_gap_hours must be a whole number of hours from 1 to 71, or 0 for no dead-man's switch alarm."
  }
}

variable "schedule_log_dir" {
  type        = string
  description = "Directory of the schedule logs (<name>.log, rotated) and locks on the management instance."
  default     = "/var/log/oci-compute-power"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._/-]+$", var.schedule_log_dir))
    error_message = "schedule_log_dir must be an absolute path of letters, digits, '.', '_', '-' and '/'."
  }
}

locals {
  # Where cloud-init puts the scripts and the OCI CLI on the management instance.
  schedule_script_path = "/opt/oci-compute-power/schedule.sh"
  crontab_script_path  = "/opt/oci-compute-power/crontab.sh"
  oci_cli_dir          = "/opt/oci-cli"

  schedule_bodies = {
    for s in var.schedules : s.name => merge(
      {
        for k, v in { compartment_id = local.schedule_default_compartment_id } : k => v
        if !anytrue([for t in ["instance_id", "instance_ids", "compartment_id"] : s.body[t] != null])
      },
      { for k, v in s.body : k => v if v != null },
    )
  }

  # What the cron line adds for alerts and holidays, only when set: a schedule without them renders as before.
  schedule_extra_args = {
    for s in var.schedules : s.name => concat(
      local.notification_topic_id != null ? ["--topic-id", local.notification_topic_id] : [],
      s.notify == "always" ? ["--notify", "always"] : [],
      length(coalesce(s.skip_dates, [])) > 0 ? ["--time-zone", s.time_zone, "--skip-dates", join(",", s.skip_dates)] : [],
    )
  }

  # The schedules as scripts/crontab.sh reads them on the instance: each names the alerts topic.
  schedules_for_crontab = [for s in var.schedules : merge(s, { topic_id = local.notification_topic_id })]

  crontab_lines = flatten([
    "# oci-compute-power: generated from the schedules list (Terraform variable \"schedules\" or scripts/crontab.sh).",
    "# Installed for the opc user by cloud-init; edits are overwritten on the next apply.",
    "SHELL=/bin/bash",
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "MAILTO=\"\"",
    "OCI_BIN=${local.oci_cli_dir}/bin/oci",
    [
      for s in var.schedules : [
        "",
        "# ${s.name}: ${s.function}-compute at '${join(" ", regexall("\\S+", s.cron))}' (${s.time_zone})",
        "CRON_TZ=${s.time_zone}",
        join(" ", concat([
          join(" ", regexall("\\S+", s.cron)),
          local.schedule_script_path,
          "--name", s.name,
          "--function-id", lookup(local.function_ids, s.function, "<not deployed>"),
          # Single-quoted for the shell ('\'' for a quote); % escaped for cron, which reads it as a newline.
          "--body", "'${replace(replace(jsonencode(local.schedule_bodies[s.name]), "'", "'\\''"), "%", "\\%")}'",
          "--log-dir", var.schedule_log_dir,
        ], local.schedule_extra_args[s.name], ["2>&1 | logger -t oci-compute-power"])),
      ]
    ],
  ])

  # Null until the functions exist (see local.images_known): nothing to schedule yet.
  crontab = local.images_known ? "${join("\n", local.crontab_lines)}\n" : null
}
