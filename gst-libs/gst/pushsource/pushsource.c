/* GstPushSource: DirectShow's IAMPushSource + IAMLatency as a GObject interface. */

/**
 * SECTION:gstpushsource
 * @title: GstPushSource
 * @short_description: Interface of live sources with DirectShow push-source timing
 *
 * The GStreamer spelling of DirectShow's IAMPushSource and IAMLatency. Every source-like element
 * of the `pushsource` plugin implements it, so that `graphbin` (and any application) finds them
 * with gst_bin_iterate_all_by_interface() and equalizes their latencies with stream offsets.
 */

#include "pushsource.h"

/* Both copies of this file may live in one process: the plugin built by cargo links its own
 * copy statically (and hides its symbols), while an application or Python loads
 * libgstpushsource-1.0 (Python through the typelib). GType names are process-wide, so whichever
 * copy registers a type first owns it and the other one takes it by name; registering twice
 * would be a GLib critical. Types are registered when the plugin or the application starts
 * using the interface, not concurrently from two copies in practice; each copy's own
 * g_once_init_enter() makes its registration thread-safe. */
static GType
existing_type (const gchar * name, GType fundamental)
{
  GType type = g_type_from_name (name);

  if (type != 0 && G_TYPE_FUNDAMENTAL (type) != fundamental)
    g_critical ("A type named %s exists but is not a %s", name, g_type_name (fundamental));
  return type;
}

static GType
register_push_source (void)
{
  GType type = existing_type ("GstPushSource", G_TYPE_INTERFACE);

  if (type != 0)
    return type;
  type = g_type_register_static_simple (G_TYPE_INTERFACE,
      g_intern_static_string ("GstPushSource"), sizeof (GstPushSourceInterface), NULL, 0, NULL,
      0);
  g_type_interface_add_prerequisite (type, GST_TYPE_ELEMENT);
  return type;
}

/**
 * gst_push_source_get_type:
 *
 * Returns: the #GType of the #GstPushSource interface
 */
GType
gst_push_source_get_type (void)
{
  static gsize type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, register_push_source ());
  return type;
}

/* The value names are the descriptions gst-inspect shows (public API since the plugin first
 * registered these types in Rust), not the C identifiers. */
static const GFlagsValue push_source_flags_values[] = {
  {GST_PUSH_SOURCE_FLAG_INTERNAL_RM,
      "The source does its own rate matching: no renderer may match rates with it",
      "internal-rm"},
  {GST_PUSH_SOURCE_FLAG_NOT_LIVE,
      "Treat the source as not live: no latency equalization, no rate matching", "not-live"},
  {GST_PUSH_SOURCE_FLAG_PRIVATE_CLOCK,
      "Time stamps come from a clock the rest of the graph cannot see", "private-clock"},
  {GST_PUSH_SOURCE_FLAG_USE_STREAM_CLOCK,
      "Time stamps come from the stream clock (reserved in DirectShow)", "use-stream-clock"},
  {GST_PUSH_SOURCE_FLAG_USE_CLOCK_CHAIN,
      "The source uses a clock chain (reserved in DirectShow)", "use-clock-chain"},
  {0, NULL, NULL}
};

static GType
register_push_source_flags (void)
{
  GType type = existing_type ("GstPushSourceFlags", G_TYPE_FLAGS);

  if (type != 0)
    return type;
  return g_flags_register_static (g_intern_static_string ("GstPushSourceFlags"),
      push_source_flags_values);
}

/**
 * gst_push_source_flags_get_type:
 *
 * Returns: the #GType of #GstPushSourceFlags
 */
GType
gst_push_source_flags_get_type (void)
{
  static gsize type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, register_push_source_flags ());
  return type;
}

static const GEnumValue push_source_offset_result_values[] = {
  {GST_PUSH_SOURCE_OFFSET_APPLIED, "Offset applied", "applied"},
  {GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM,
      "Offset applied, but it exceeds the maximum stream offset", "exceeds-maximum"},
  {0, NULL, NULL}
};

static GType
register_push_source_offset_result (void)
{
  GType type = existing_type ("GstPushSourceOffsetResult", G_TYPE_ENUM);

  if (type != 0)
    return type;
  return g_enum_register_static (g_intern_static_string ("GstPushSourceOffsetResult"),
      push_source_offset_result_values);
}

/**
 * gst_push_source_offset_result_get_type:
 *
 * Returns: the #GType of #GstPushSourceOffsetResult
 */
GType
gst_push_source_offset_result_get_type (void)
{
  static gsize type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, register_push_source_offset_result ());
  return type;
}

/* An implementation may leave functions NULL (C has no way to force them): callers get the
 * answer of a source without latency, offset or flags, and the log says why. */
static void
log_missing (GstPushSource * source, const gchar * function)
{
  GST_WARNING_OBJECT (source, "GstPushSource implementation without %s", function);
}

/**
 * gst_push_source_get_latency:
 * @source: a #GstPushSource
 * @latency: (out) (optional): the latency in nanoseconds: how long after capture the source
 *     pushes its data
 *
 * IAMLatency::GetLatency.
 *
 * Returns: %FALSE when the source cannot tell its latency (@latency is then left untouched)
 */
gboolean
gst_push_source_get_latency (GstPushSource * source, GstClockTime * latency)
{
  GstPushSourceInterface *iface;
  GstClockTime value = GST_CLOCK_TIME_NONE;

  g_return_val_if_fail (GST_IS_PUSH_SOURCE (source), FALSE);
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  if (iface->get_latency == NULL) {
    log_missing (source, "get_latency");
    return FALSE;
  }
  /* Implementations may write through the pointer unconditionally: give them one. */
  if (!iface->get_latency ((GstElement *) source, &value))
    return FALSE;
  if (latency != NULL)
    *latency = value;
  return TRUE;
}

/**
 * gst_push_source_get_stream_offset:
 * @source: a #GstPushSource
 *
 * IAMPushSource::GetStreamOffset.
 *
 * Returns: the stream offset in nanoseconds (0 when the source has no offset)
 */
gint64
gst_push_source_get_stream_offset (GstPushSource * source)
{
  GstPushSourceInterface *iface;

  g_return_val_if_fail (GST_IS_PUSH_SOURCE (source), 0);
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  if (iface->get_stream_offset == NULL) {
    log_missing (source, "get_stream_offset");
    return 0;
  }
  return iface->get_stream_offset ((GstElement *) source);
}

/**
 * gst_push_source_set_stream_offset:
 * @source: a #GstPushSource
 * @offset: the stream offset in nanoseconds
 *
 * IAMPushSource::SetStreamOffset: the source applies @offset whatever its size.
 *
 * Returns: %GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM when @offset exceeds the maximum stream
 *     offset (data may be lost unless something downstream buffers it),
 *     %GST_PUSH_SOURCE_OFFSET_APPLIED otherwise
 */
GstPushSourceOffsetResult
gst_push_source_set_stream_offset (GstPushSource * source, gint64 offset)
{
  GstPushSourceInterface *iface;

  g_return_val_if_fail (GST_IS_PUSH_SOURCE (source), GST_PUSH_SOURCE_OFFSET_APPLIED);
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  if (iface->set_stream_offset == NULL) {
    /* Nothing to exceed. */
    log_missing (source, "set_stream_offset");
    return GST_PUSH_SOURCE_OFFSET_APPLIED;
  }
  return iface->set_stream_offset ((GstElement *) source, offset) ==
      GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM ? GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM :
      GST_PUSH_SOURCE_OFFSET_APPLIED;
}

/**
 * gst_push_source_get_max_stream_offset:
 * @source: a #GstPushSource
 *
 * IAMPushSource::GetMaxStreamOffset.
 *
 * Returns: the largest offset in nanoseconds the source can apply without losing data
 */
GstClockTime
gst_push_source_get_max_stream_offset (GstPushSource * source)
{
  GstPushSourceInterface *iface;

  g_return_val_if_fail (GST_IS_PUSH_SOURCE (source), 0);
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  if (iface->get_max_stream_offset == NULL) {
    log_missing (source, "get_max_stream_offset");
    return 0;
  }
  return iface->get_max_stream_offset ((GstElement *) source);
}

/**
 * gst_push_source_set_max_stream_offset:
 * @source: a #GstPushSource
 * @max_offset: the maximum stream offset in nanoseconds
 *
 * IAMPushSource::SetMaxStreamOffset.
 */
void
gst_push_source_set_max_stream_offset (GstPushSource * source, GstClockTime max_offset)
{
  GstPushSourceInterface *iface;

  g_return_if_fail (GST_IS_PUSH_SOURCE (source));
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  if (iface->set_max_stream_offset == NULL) {
    log_missing (source, "set_max_stream_offset");
    return;
  }
  iface->set_max_stream_offset ((GstElement *) source, max_offset);
}

/**
 * gst_push_source_get_push_source_flags:
 * @source: a #GstPushSource
 *
 * IAMPushSource::GetPushSourceFlags.
 *
 * Returns: the source's flags (none when the source has no flags)
 */
GstPushSourceFlags
gst_push_source_get_push_source_flags (GstPushSource * source)
{
  GstPushSourceInterface *iface;

  g_return_val_if_fail (GST_IS_PUSH_SOURCE (source), 0);
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  if (iface->get_push_source_flags == NULL) {
    log_missing (source, "get_push_source_flags");
    return 0;
  }
  return (GstPushSourceFlags) iface->get_push_source_flags ((GstElement *) source);
}

/**
 * gst_push_source_set_push_source_flags:
 * @source: a #GstPushSource
 * @flags: the flags
 *
 * IAMPushSource::SetPushSourceFlags.
 */
void
gst_push_source_set_push_source_flags (GstPushSource * source, GstPushSourceFlags flags)
{
  GstPushSourceInterface *iface;

  g_return_if_fail (GST_IS_PUSH_SOURCE (source));
  iface = GST_PUSH_SOURCE_GET_INTERFACE (source);
  if (iface->set_push_source_flags == NULL) {
    log_missing (source, "set_push_source_flags");
    return;
  }
  iface->set_push_source_flags ((GstElement *) source, flags);
}
