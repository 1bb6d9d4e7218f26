/* A push source implemented in C, and C calls on a push source implemented in Rust.
 * Built with its own copy of libgstpushsource-1.0 (gst-libs/gst/pushsource/pushsource.c) and
 * run by tests/c_interface.rs; every check is a g_assert. The plugin carries another copy: with
 * the argument "plugin-first" the plugin registers the types before this program asks for them,
 * otherwise this program registers them first. */
#include <gst/pushsource/pushsource.h>

typedef struct {
  GstElement parent;
  gint64 offset;
  GstClockTime max_offset;
} TestCSource;

typedef struct {
  GstElementClass parent_class;
} TestCSourceClass;

static gboolean
c_get_latency (GstElement * source, GstClockTime * latency)
{
  *latency = 33 * GST_MSECOND;
  return TRUE;
}

static gint64
c_get_stream_offset (GstElement * source)
{
  return ((TestCSource *) source)->offset;
}

static gint
c_set_stream_offset (GstElement * source, gint64 offset)
{
  TestCSource *self = (TestCSource *) source;
  self->offset = offset;
  return offset > 0 && (GstClockTime) offset > self->max_offset ?
      GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM : GST_PUSH_SOURCE_OFFSET_APPLIED;
}

static GstClockTime
c_get_max_stream_offset (GstElement * source)
{
  return ((TestCSource *) source)->max_offset;
}

static void
c_set_max_stream_offset (GstElement * source, GstClockTime max_offset)
{
  ((TestCSource *) source)->max_offset = max_offset;
}

/* The flags functions are left out on purpose: callers must cope. */
static void
test_c_source_push_source_init (GstPushSourceInterface * iface)
{
  iface->get_latency = c_get_latency;
  iface->get_stream_offset = c_get_stream_offset;
  iface->set_stream_offset = c_set_stream_offset;
  iface->get_max_stream_offset = c_get_max_stream_offset;
  iface->set_max_stream_offset = c_set_max_stream_offset;
}

G_DEFINE_TYPE_WITH_CODE (TestCSource, test_c_source, GST_TYPE_ELEMENT,
    G_IMPLEMENT_INTERFACE (GST_TYPE_PUSH_SOURCE, test_c_source_push_source_init));

static void
test_c_source_class_init (TestCSourceClass * klass)
{
}

static void
test_c_source_init (TestCSource * self)
{
  self->max_offset = 200 * GST_MSECOND;
}

int
main (int argc, char **argv)
{
  GstElement *c_source, *rust_source, *bin;
  GstClockTime latency = 0;
  GstIterator *it;
  GValue item = G_VALUE_INIT;
  guint found = 0;

  gst_init (&argc, &argv);
  if (argc > 1 && g_str_equal (argv[1], "plugin-first")) {
    GstPlugin *plugin = gst_plugin_load_by_name ("pushsource");
    g_assert_nonnull (plugin);
    gst_object_unref (plugin);
    g_assert_cmpuint (g_type_from_name ("GstPushSource"), !=, 0);
  } else {
    /* The registry scan loads plugins in gst-plugin-scanner, not here. */
    g_assert_cmpuint (g_type_from_name ("GstPushSource"), ==, 0);
  }
  g_assert_cmpuint (GST_TYPE_PUSH_SOURCE, !=, 0);
  g_assert_true (G_TYPE_IS_INTERFACE (GST_TYPE_PUSH_SOURCE));
  g_assert_cmpstr (g_type_name (GST_TYPE_PUSH_SOURCE), ==, "GstPushSource");
  g_assert_cmpstr (g_type_name (GST_TYPE_PUSH_SOURCE_FLAGS), ==, "GstPushSourceFlags");
  g_assert_cmpstr (g_type_name (GST_TYPE_PUSH_SOURCE_OFFSET_RESULT), ==,
      "GstPushSourceOffsetResult");
  {
    GEnumClass *results = g_type_class_ref (GST_TYPE_PUSH_SOURCE_OFFSET_RESULT);
    GFlagsClass *flags = g_type_class_ref (GST_TYPE_PUSH_SOURCE_FLAGS);
    g_assert_cmpstr (g_enum_get_value (results,
            GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM)->value_nick, ==, "exceeds-maximum");
    g_assert_cmpuint (g_flags_get_value_by_nick (flags, "not-live")->value, ==,
        GST_PUSH_SOURCE_FLAG_NOT_LIVE);
    g_type_class_unref (results);
    g_type_class_unref (flags);
  }

  /* The C implementation, called through the interface. */
  c_source = g_object_new (test_c_source_get_type (), "name", "c-source", NULL);
  g_assert_true (GST_IS_PUSH_SOURCE (c_source));
  g_assert_true (gst_push_source_get_latency (GST_PUSH_SOURCE (c_source), &latency));
  g_assert_cmpuint (latency, ==, 33 * GST_MSECOND);
  g_assert_cmpint (gst_push_source_set_stream_offset (GST_PUSH_SOURCE (c_source),
          467 * GST_MSECOND), ==, GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM);
  gst_push_source_set_max_stream_offset (GST_PUSH_SOURCE (c_source), 500 * GST_MSECOND);
  g_assert_cmpint (gst_push_source_set_stream_offset (GST_PUSH_SOURCE (c_source),
          467 * GST_MSECOND), ==, GST_PUSH_SOURCE_OFFSET_APPLIED);
  g_assert_cmpint (gst_push_source_get_stream_offset (GST_PUSH_SOURCE (c_source)), ==,
      467 * GST_MSECOND);
  gst_push_source_set_push_source_flags (GST_PUSH_SOURCE (c_source),
      GST_PUSH_SOURCE_FLAG_INTERNAL_RM);
  g_assert_cmpuint (gst_push_source_get_push_source_flags (GST_PUSH_SOURCE (c_source)), ==, 0);

  /* The Rust implementation, called from C. */
  rust_source = gst_element_factory_make ("pushaudiotestsrc", "rust-source");
  g_assert_nonnull (rust_source);
  g_assert_true (GST_IS_PUSH_SOURCE (rust_source));
  /* One type for the whole process, whichever copy registered it. */
  g_assert_cmpuint (G_PARAM_SPEC_VALUE_TYPE (g_object_class_find_property
          (G_OBJECT_GET_CLASS (rust_source), "push-source-flags")), ==,
      GST_TYPE_PUSH_SOURCE_FLAGS);
  g_assert_true (gst_push_source_get_latency (GST_PUSH_SOURCE (rust_source), &latency));
  g_assert_cmpuint (latency, ==, gst_util_uint64_scale_ceil (1024, GST_SECOND, 44100));
  g_assert_cmpint (gst_push_source_set_stream_offset (GST_PUSH_SOURCE (rust_source),
          100 * GST_MSECOND), ==, GST_PUSH_SOURCE_OFFSET_APPLIED);
  g_assert_cmpint (gst_push_source_set_stream_offset (GST_PUSH_SOURCE (rust_source),
          300 * GST_MSECOND), ==, GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM);
  gst_push_source_set_push_source_flags (GST_PUSH_SOURCE (rust_source),
      GST_PUSH_SOURCE_FLAG_NOT_LIVE | GST_PUSH_SOURCE_FLAG_USE_CLOCK_CHAIN);
  g_assert_cmpuint (gst_push_source_get_push_source_flags (GST_PUSH_SOURCE (rust_source)), ==,
      0x20002);
  {
    gboolean is_live = TRUE;
    gint64 offset = 0;
    g_object_get (rust_source, "is-live", &is_live, "ts-offset", &offset, NULL);
    g_assert_false (is_live);
    g_assert_cmpint (offset, ==, 300 * GST_MSECOND);
  }

  /* A bin finds both by interface. */
  bin = gst_bin_new (NULL);
  gst_bin_add_many (GST_BIN (bin), c_source, rust_source,
      gst_element_factory_make ("fakesrc", NULL), NULL);
  it = gst_bin_iterate_all_by_interface (GST_BIN (bin), GST_TYPE_PUSH_SOURCE);
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    found++;
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  g_assert_cmpuint (found, ==, 2);

  gst_object_unref (bin);
  g_print ("C push source checks passed\n");
  return 0;
}
