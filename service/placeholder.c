/* placeholder: replaced when the service lands */
typedef int weir_service_placeholder_t;
