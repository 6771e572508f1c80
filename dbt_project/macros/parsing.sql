{#- One parsing step per kind of value, shared by every source that needs it. -#}

{% macro parse_date(column, format) -%}
    {#- `format` in strptime's notation (%Y-%m-%d); blank is null, anything else no format reads
        an error. Where the format has no time, a time after the date is set aside
        (13/10/2011 00:00 from a spreadsheet; TIME_AFTER_DATE in linkage_ops/ingest/reader.py,
        which the loader reads the same way; with an XML time zone too). A date the format
        cannot read is read, without its time, in the other forms UK systems write dates in
        (2022-09-01 in a return laid out 01/09/2022, and back; 16-Apr-2020: DATE_FORMS in the
        same file). -#}
    {%- set value = "nullif(trim(" ~ column ~ "), '')" -%}
    {%- set date_only = regexp_replace_all(value, '([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$', '') -%}
    {%- set forms = ['%Y-%m-%d', '%d/%m/%Y', '%d-%b-%Y', '%Y-%b-%d'] | reject('equalto', format) | list -%}
    {{ date_from_strings(date_only if '%H' not in format else value, format, date_only, forms) }}
{%- endmacro %}

{% macro parse_timestamp(column, format) -%}
    {{ timestamp_from_string("nullif(trim(" ~ column ~ "), '')", format) }}
{%- endmacro %}

{% macro parse_blade_date(column) -%}
    {{ parse_date(column, '%Y-%b-%d %H:%M:%S') }}
{%- endmacro %}

{% macro parse_boolean(column) -%}
    {#- True/False, 1/0, Y/N, Yes/No (_BOOLEANS in linkage_ops/ingest/reader.py). -#}
    (lower(trim({{ column }})) in ('true', '1', 'y', 'yes'))
{%- endmacro %}

{% macro normalise_postcode(column) -%}
    {#- Upper case, one space before the three-character inward code: "hr1 2ab" -> "HR1 2AB". -#}
    {%- set letters_and_digits = regexp_replace_all('upper(' ~ column ~ ')', '[^A-Z0-9]', '') %}
    case
        when length(coalesce({{ letters_and_digits }}, '')) >= 5
            then
                left({{ letters_and_digits }}, length({{ letters_and_digits }}) - 3)
                || ' '
                || right({{ letters_and_digits }}, 3)
    end
{%- endmacro %}

{% macro normalise_nhs_number(column) -%}
    {#- Spaces and dashes removed, and the .0 of a number column written as decimals
        (NHS_DECIMAL_ZEROS in linkage_ops/identifiers.py). -#}
    {%- set spaced = regexp_replace_all('coalesce(' ~ column ~ ", '')", '[\\s-]', '') -%}
    nullif({{ regexp_replace_all(spaced, '[.]0+$', '') }}, '')
{%- endmacro %}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
