# ---------------------------------------------------------------------------------------------------
# Tenancy, region, authentication
# ---------------------------------------------------------------------------------------------------

variable "tenancy_ocid" {
  type        = string
  description = "OCID of the tenancy. Dynamic groups live at the tenancy level, so they are created there."

  validation {
    condition     = can(regex("^ocid1\\.tenancy\\.", var.tenancy_ocid))
    error_message = "tenancy_ocid must be a tenancy OCID (ocid1.tenancy....)."
  }
}

variable "region" {
  type        = string
  description = "OCI region identifier, e.g. eu-frankfurt-1."
}

variable "oci_auth" {
  type        = string
  description = "How the oracle/oci provider authenticates: ApiKey (~/.oci/config), SecurityToken (oci session authenticate), InstancePrincipal or ResourcePrincipal."
  default     = "ApiKey"

  validation {
    condition     = contains(["ApiKey", "SecurityToken", "InstancePrincipal", "ResourcePrincipal"], var.oci_auth)
    error_message = "oci_auth must be one of ApiKey, SecurityToken, InstancePrincipal, ResourcePrincipal."
  }
}

variable "oci_config_file_profile" {
  type        = string
  description = "Profile of the OCI config file (~/.oci/config) used with ApiKey or SecurityToken auth."
  default     = "DEFAULT"
}

# ---------------------------------------------------------------------------------------------------
# Compartments and naming
# ---------------------------------------------------------------------------------------------------

variable "compartment_ocid" {
  type        = string
  description = "Compartment for everything this configuration creates: network, management instance, repositories, Functions application, logs, policies."

  validation {
    condition     = can(regex("^ocid1\\.(compartment|tenancy)\\.", var.compartment_ocid))
    error_message = "compartment_ocid must be a compartment OCID (ocid1.compartment....)."
  }
}

variable "target_compartment_ocid" {
  type        = string
  description = "Compartment whose instances the functions may start and stop (their only Compute permissions) and where target instances are created. Defaults to compartment_ocid."
  default     = null

  validation {
    condition     = var.target_compartment_ocid == null || can(regex("^ocid1\\.(compartment|tenancy)\\.", var.target_compartment_ocid))
    error_message = "target_compartment_ocid must be a compartment OCID (ocid1.compartment....) or null."
  }
}

variable "power_kinds" {
  type        = list(string)
  description = "Kinds of compute the functions may start and stop in the target compartment: instance, instance_pool, node_pool, container_instance. Each adds only the IAM statements that kind needs (docs/operations.md)."
  default     = ["instance"]

  validation {
    condition     = length(var.power_kinds) > 0 && length(distinct(var.power_kinds)) == length(var.power_kinds) && alltrue([for k in var.power_kinds : contains(["instance", "instance_pool", "node_pool", "container_instance"], k)])
    error_message = "power_kinds must be a non-empty list, without repeats, of instance, instance_pool, node_pool, container_instance."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of display names, dynamic group and policy names (letters, digits, '-')."
  default     = "compute-power"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters: lowercase letters, digits and '-', starting with a letter."
  }
}

variable "freeform_tags" {
  type        = map(string)
  description = "Free-form tags added to every resource that takes tags."
  default     = {}
}

# ---------------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------------

variable "existing_functions_subnet_id" {
  type        = string
  description = "Use this existing (private) subnet for the Functions application instead of creating a VCN. Set existing_management_subnet_id too (one without the other is refused)."
  default     = null
}

variable "existing_management_subnet_id" {
  type        = string
  description = "Use this existing subnet for the management instance instead of creating a VCN. Set existing_functions_subnet_id too (one without the other is refused)."
  default     = null
}

variable "vcn_cidr" {
  type        = string
  description = "CIDR of the VCN created when no existing subnets are given."
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.vcn_cidr, 0))
    error_message = "vcn_cidr must be a CIDR block, e.g. 10.20.0.0/16."
  }
}

variable "functions_subnet_cidr" {
  type        = string
  description = "CIDR of the private subnet created for the Functions application (inside vcn_cidr)."
  default     = "10.20.1.0/24"

  validation {
    condition     = can(cidrhost(var.functions_subnet_cidr, 0))
    error_message = "functions_subnet_cidr must be a CIDR block."
  }
}

variable "management_subnet_cidr" {
  type        = string
  description = "CIDR of the subnet created for the management instance (inside vcn_cidr)."
  default     = "10.20.2.0/24"

  validation {
    condition     = can(cidrhost(var.management_subnet_cidr, 0))
    error_message = "management_subnet_cidr must be a CIDR block."
  }
}

variable "ssh_ingress_cidr" {
  type        = string
  description = "The only source allowed to reach the management instance on TCP 22, e.g. your office's 203.0.113.0/24. Null (the default) opens no SSH at all; 0.0.0.0/0 is refused."
  default     = null

  validation {
    condition     = var.ssh_ingress_cidr == null || (can(cidrhost(var.ssh_ingress_cidr, 0)) && !endswith(coalesce(var.ssh_ingress_cidr, "x"), "/0"))
    error_message = "ssh_ingress_cidr must be a CIDR block narrower than /0 (e.g. 203.0.113.7/32), or null for no SSH."
  }
}

variable "management_assign_public_ip" {
  type        = bool
  description = "Put the management instance in a public subnet with a public IP (needed to SSH in from ssh_ingress_cidr without a bastion). False: private subnet, egress through NAT and service gateways."
  default     = true
}

# ---------------------------------------------------------------------------------------------------
# Management instance (runs cron -> schedule.sh -> oci fn function invoke)
# ---------------------------------------------------------------------------------------------------

variable "availability_domain_number" {
  type        = number
  description = "Availability domain (1-based, in the region's list) for the instances. Single-AD regions have only 1; a number beyond the region's count is refused at plan, naming it."
  default     = 1

  validation {
    condition     = var.availability_domain_number >= 1 && var.availability_domain_number <= 3 && floor(var.availability_domain_number) == var.availability_domain_number
    error_message = "availability_domain_number must be 1, 2 or 3."
  }
}

variable "image_operating_system" {
  type        = string
  description = "Operating system of the platform image looked up for the instances (newest available image of that OS and version, never a dated image name)."
  default     = "Oracle Linux"
}

variable "image_operating_system_version" {
  type        = string
  description = "Operating system version of the platform image, e.g. 9 or 8."
  default     = "9"
}

variable "management_shape" {
  type        = string
  description = "Flexible shape of the management instance."
  default     = "VM.Standard.E4.Flex"

  validation {
    condition     = endswith(var.management_shape, ".Flex")
    error_message = "management_shape must be a flexible shape (name ending in .Flex)."
  }
}

variable "management_ocpus" {
  type        = number
  description = "OCPUs of the management instance."
  default     = 1

  validation {
    condition     = var.management_ocpus >= 1 && var.management_ocpus <= 64
    error_message = "management_ocpus must be between 1 and 64."
  }
}

variable "management_memory_in_gbs" {
  type        = number
  description = "Memory of the management instance, in GB."
  default     = 4

  validation {
    condition     = var.management_memory_in_gbs >= 1 && var.management_memory_in_gbs <= 1024
    error_message = "management_memory_in_gbs must be between 1 and 1024."
  }
}

variable "ssh_public_key" {
  type        = string
  description = "OpenSSH public key installed for the opc user on the instances. Null: no key (console connection only)."
  default     = null
}

variable "oci_cli_version" {
  type        = string
  description = "Version of oci-cli (PyPI) that cloud-init installs on the management instance, in /opt/oci-cli."
  default     = "3.95.1"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.oci_cli_version))
    error_message = "oci_cli_version must be a version such as 3.95.1."
  }
}

# ---------------------------------------------------------------------------------------------------
# Target instances (what the schedules start and stop)
# ---------------------------------------------------------------------------------------------------

variable "target_instance_count" {
  type        = number
  description = "Number of target instances to create, tagged with target_freeform_tags so the default schedules select them. 0: create none; the schedules then select existing instances by tag."
  default     = 1

  validation {
    condition     = var.target_instance_count >= 0 && var.target_instance_count <= 100 && floor(var.target_instance_count) == var.target_instance_count
    error_message = "target_instance_count must be a whole number between 0 and 100."
  }
}

variable "target_shape" {
  type        = string
  description = "Flexible shape of the target instances."
  default     = "VM.Standard.E4.Flex"

  validation {
    condition     = endswith(var.target_shape, ".Flex")
    error_message = "target_shape must be a flexible shape (name ending in .Flex)."
  }
}

variable "target_ocpus" {
  type        = number
  description = "OCPUs of each target instance."
  default     = 1

  validation {
    condition     = var.target_ocpus >= 1 && var.target_ocpus <= 64
    error_message = "target_ocpus must be between 1 and 64."
  }
}

variable "target_memory_in_gbs" {
  type        = number
  description = "Memory of each target instance, in GB."
  default     = 4

  validation {
    condition     = var.target_memory_in_gbs >= 1 && var.target_memory_in_gbs <= 1024
    error_message = "target_memory_in_gbs must be between 1 and 1024."
  }
}

variable "target_freeform_tags" {
  type        = map(string)
  description = "Free-form tags of the target instances. The default schedules select instances with power-schedule = office-hours."
  default = {
    "power-schedule" = "office-hours"
  }
}

# ---------------------------------------------------------------------------------------------------
# Registry and functions
# ---------------------------------------------------------------------------------------------------

variable "repository_prefix" {
  type        = string
  description = "Path prefix of the container repositories: <prefix>/start-compute and <prefix>/stop-compute. The Fn context registry is <region-key>.ocir.io/<namespace>/<prefix>."
  default     = "oci-compute-power"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._/-]{0,200}[a-z0-9]$", var.repository_prefix))
    error_message = "repository_prefix must be lowercase letters, digits, '.', '_', '-', '/'."
  }
}

variable "start_function_image" {
  type        = string
  description = "Image of start-compute, e.g. fra.ocir.io/<namespace>/oci-compute-power/start-compute:0.1.0-abc1234, written to images.auto.tfvars.json by scripts/deploy.sh. Null (the default, before the first push): the functions and what names them are not created yet."
  default     = null

  validation {
    condition     = var.start_function_image == null || can(regex("^[a-z0-9.-]+\\.ocir\\.io/[^:]+:[A-Za-z0-9._-]+$", var.start_function_image))
    error_message = "start_function_image must be an OCIR image with a tag: <region-key>.ocir.io/<namespace>/<repo>:<tag>, or null until scripts/deploy.sh has pushed it."
  }
}

variable "stop_function_image" {
  type        = string
  description = "Image of stop-compute, e.g. fra.ocir.io/<namespace>/oci-compute-power/stop-compute:0.1.0-abc1234, written to images.auto.tfvars.json by scripts/deploy.sh. Null (the default, before the first push): the functions and what names them are not created yet."
  default     = null

  validation {
    condition     = var.stop_function_image == null || can(regex("^[a-z0-9.-]+\\.ocir\\.io/[^:]+:[A-Za-z0-9._-]+$", var.stop_function_image))
    error_message = "stop_function_image must be an OCIR image with a tag: <region-key>.ocir.io/<namespace>/<repo>:<tag>, or null until scripts/deploy.sh has pushed it."
  }
}

variable "function_memory_in_mbs" {
  type        = number
  description = "Memory of each function in MB. 256 leaves headroom for batches of many instances; 128 works for small ones."
  default     = 256

  validation {
    condition     = contains([128, 256, 512, 1024, 2048, 3072], var.function_memory_in_mbs)
    error_message = "function_memory_in_mbs must be one of 128, 256, 512, 1024, 2048, 3072."
  }
}

variable "function_timeout_in_seconds" {
  type        = number
  description = "Timeout of each function invocation in seconds (OCI Functions allows at most 300 for synchronous calls). Waiting for instances to reach their state happens within it."
  default     = 300

  validation {
    condition     = var.function_timeout_in_seconds >= 5 && var.function_timeout_in_seconds <= 300
    error_message = "function_timeout_in_seconds must be between 5 and 300."
  }
}

variable "function_detached_timeout_in_seconds" {
  type        = number
  description = "Timeout of a detached invocation in seconds (5 to 3600; null: OCI's default, the synchronous timeout). For runs over more targets than fit in 300 s (docs/scale.md)."
  default     = null

  validation {
    condition     = var.function_detached_timeout_in_seconds == null ? true : (var.function_detached_timeout_in_seconds >= 5 && var.function_detached_timeout_in_seconds <= 3600)
    error_message = "function_detached_timeout_in_seconds must be null or between 5 and 3600."
  }
}

variable "function_config" {
  type        = map(string)
  description = "Extra configuration (environment) for both functions, e.g. { POWER_MAX_CONCURRENCY = \"16\" }. ALLOWED_COMPARTMENT_IDS is set by this configuration."
  default     = {}

  validation {
    condition     = !contains(keys(var.function_config), "ALLOWED_COMPARTMENT_IDS")
    error_message = "ALLOWED_COMPARTMENT_IDS is set from target_compartment_ocid; do not set it in function_config."
  }
}

variable "log_retention_duration" {
  type        = number
  description = "Retention of the functions' invoke logs in days (30-day steps, up to 180)."
  default     = 30

  validation {
    condition     = contains([30, 60, 90, 120, 150, 180], var.log_retention_duration)
    error_message = "log_retention_duration must be one of 30, 60, 90, 120, 150, 180."
  }
}

variable "target_subnet_id" {
  type        = string
  description = "Subnet of the target instances. Null: the functions' private subnet (no public IPs)."
  default     = null
}
