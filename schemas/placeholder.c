/* placeholder: replaced when the module lands */
typedef int weir_schemas_placeholder_t;
