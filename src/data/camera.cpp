#include "data/camera.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>

#include "data/value_access.hpp"
#include "io/error.hpp"

namespace poselift::data {

namespace {

// Calibration values as published with VideoPose3D (its h36m_dataset.py / humaneva_dataset.py).
// Kept as doubles and rounded to float32 on use, which is exactly what np.array(..., 'float32')
// does with the original Python floats.
struct IntrinsicRecord {
  const char* id;
  double center[2];
  double focal_length[2];
  double radial_distortion[3];
  double tangential_distortion[2];
  int res_w, res_h;
  double azimuth;
};

struct ExtrinsicRecord {
  double orientation[4];  // w, x, y, z
  double translation[3];  // millimetres
};

constexpr IntrinsicRecord kH36mIntrinsics[4] = {
    {"54138969", {512.54150390625, 515.4514770507812}, {1145.0494384765625, 1143.7811279296875},
     {-0.20709891617298126, 0.24777518212795258, -0.0030751503072679043},
     {-0.0009756988729350269, -0.00142447161488235}, 1000, 1002, 70},
    {"55011271", {508.8486328125, 508.0649108886719}, {1149.6756591796875, 1147.5916748046875},
     {-0.1942136287689209, 0.2404085397720337, 0.006819975562393665},
     {-0.0016190266469493508, -0.0027408944442868233}, 1000, 1000, -70},
    {"58860488", {519.8158569335938, 501.40264892578125}, {1149.1407470703125, 1148.7989501953125},
     {-0.2083381861448288, 0.25548800826072693, -0.0024604974314570427},
     {0.0014843869721516967, -0.0007599993259645998}, 1000, 1000, 110},
    {"60457274", {514.9682006835938, 501.88201904296875}, {1145.5113525390625, 1144.77392578125},
     {-0.198384091258049, 0.21832367777824402, -0.008947807364165783},
     {-0.0005872055771760643, -0.0018133620033040643}, 1000, 1002, -110},
};

struct SubjectExtrinsics {
  const char* subject;
  bool known;
  ExtrinsicRecord cameras[4];
};

constexpr SubjectExtrinsics kH36mExtrinsics[] = {
    {"S1", true,
     {{{0.1407056450843811, -0.1500701755285263, -0.755240797996521, 0.6223280429840088},
       {1841.1070556640625, 4955.28466796875, 1563.4454345703125}},
      {{0.6157187819480896, -0.764836311340332, -0.14833825826644897, 0.11794740706682205},
       {1761.278564453125, -5078.0068359375, 1606.2650146484375}},
      {{0.14651472866535187, -0.14647851884365082, 0.7653023600578308, -0.6094175577163696},
       {-1846.7777099609375, 5215.04638671875, 1491.972412109375}},
      {{0.5834008455276489, -0.7853162288665771, 0.14548823237419128, -0.14749594032764435},
       {-1794.7896728515625, -3722.698974609375, 1574.8927001953125}}}},
    {"S2", false, {}},
    {"S3", false, {}},
    {"S4", false, {}},
    {"S5", true,
     {{{0.1467377245426178, -0.162370964884758, -0.7551892995834351, 0.6178938746452332},
       {2097.3916015625, 4880.94482421875, 1605.732421875}},
      {{0.6159758567810059, -0.7626792192459106, -0.15728192031383514, 0.1189815029501915},
       {2031.7008056640625, -5167.93310546875, 1612.923095703125}},
      {{0.14291371405124664, -0.12907841801643372, 0.7678384780883789, -0.6110143065452576},
       {-1620.5948486328125, 5171.65869140625, 1496.43701171875}},
      {{0.5920479893684387, -0.7814217805862427, 0.1274748593568802, -0.15036417543888092},
       {-1637.1737060546875, -3867.3173828125, 1547.033203125}}}},
    {"S6", true,
     {{{0.1337897777557373, -0.15692396461963654, -0.7571090459823608, 0.6198879480361938},
       {1935.4517822265625, 4950.24560546875, 1618.0838623046875}},
      {{0.6147197484970093, -0.7628812789916992, -0.16174767911434174, 0.11819244921207428},
       {1969.803955078125, -5128.73876953125, 1632.77880859375}},
      {{0.1529948115348816, -0.13529130816459656, 0.7646096348762512, -0.6112781167030334},
       {-1769.596435546875, 5185.361328125, 1476.993408203125}},
      {{0.5916101336479187, -0.7804774045944214, 0.12832270562648773, -0.1561593860387802},
       {-1721.668701171875, -3884.13134765625, 1540.4879150390625}}}},
    {"S7", true,
     {{{0.1435241848230362, -0.1631336808204651, -0.7548328638076782, 0.6188824772834778},
       {1974.512939453125, 4926.3544921875, 1597.8326416015625}},
      {{0.6141672730445862, -0.7638262510299683, -0.1596645563840866, 0.1177929937839508},
       {1937.0584716796875, -5119.7900390625, 1631.5665283203125}},
      {{0.14550060033798218, -0.12874816358089447, 0.7660516500473022, -0.6127139329910278},
       {-1741.8111572265625, 5208.24951171875, 1464.8245849609375}},
      {{0.5912848114967346, -0.7821764349937439, 0.12445473670959473, -0.15196487307548523},
       {-1734.7105712890625, -3832.42138671875, 1548.5830078125}}}},
    {"S8", true,
     {{{0.14110587537288666, -0.15589867532253265, -0.7561917304992676, 0.619644045829773},
       {2150.65185546875, 4896.1611328125, 1611.9046630859375}},
      {{0.6169601678848267, -0.7647668123245239, -0.14846350252628326, 0.11158157885074615},
       {2219.965576171875, -5148.453125, 1613.0440673828125}},
      {{0.1471444070339203, -0.13377119600772858, 0.7670128345489502, -0.6100369691848755},
       {-1571.2215576171875, 5137.0185546875, 1498.1761474609375}},
      {{0.5927824378013611, -0.7825870513916016, 0.12147816270589828, -0.14631995558738708},
       {-1476.913330078125, -3896.7412109375, 1547.97216796875}}}},
    {"S9", true,
     {{{0.15540587902069092, -0.15548215806484222, -0.7532095313072205, 0.6199594736099243},
       {2044.45849609375, 4935.1171875, 1481.2275390625}},
      {{0.618784487247467, -0.7634735107421875, -0.14132238924503326, 0.11933968216180801},
       {1990.959716796875, -5123.810546875, 1568.8048095703125}},
      {{0.13357827067375183, -0.1367100477218628, 0.7689454555511475, -0.6100738644599915},
       {-1670.9921875, 5211.98583984375, 1528.387939453125}},
      {{0.5879399180412292, -0.7823407053947449, 0.1427614390850067, -0.14794869720935822},
       {-1696.04345703125, -3827.099853515625, 1591.4127197265625}}}},
    {"S11", true,
     {{{0.15232472121715546, -0.15442320704460144, -0.7547563314437866, 0.6191070079803467},
       {2098.440185546875, 4926.5546875, 1500.278564453125}},
      {{0.6189449429512024, -0.7600917220115662, -0.15300633013248444, 0.1255258321762085},
       {2083.182373046875, -4912.1728515625, 1561.07861328125}},
      {{0.14943228662014008, -0.15650227665901184, 0.7681233882904053, -0.6026304364204407},
       {-1609.8153076171875, 5177.3359375, 1537.896728515625}},
      {{0.5894251465797424, -0.7818877100944519, 0.13991211354732513, -0.14715361595153809},
       {-1590.738037109375, -3854.1689453125, 1578.017578125}}}},
};

struct HumanEvaIntrinsicRecord {
  const char* id;
  int res_w, res_h;
  double azimuth;
};

constexpr HumanEvaIntrinsicRecord kHumanEvaIntrinsics[3] = {
    {"C1", 640, 480, 0}, {"C2", 640, 480, -90}, {"C3", 640, 480, 90}};

struct HumanEvaSubjectExtrinsics {
  const char* subject;
  bool known;
  ExtrinsicRecord cameras[3];
};

constexpr HumanEvaSubjectExtrinsics kHumanEvaExtrinsics[] = {
    {"S1", true,
     {{{0.424207, -0.4983646, -0.5802981, 0.4847012}, {4062.227, 663.2477, 1528.397}},
      {{0.6503354, -0.7481602, -0.0919284, 0.0941766}, {844.8131, -3805.2092, 1504.9929}},
      {{0.0664734, -0.0690535, 0.7416416, -0.6639132}, {-797.67377, 3916.3174, 1433.6602}}}},
    {"S2", true,
     {{{0.4214752, -0.4961493, -0.5838273, 0.4851187}, {4112.9121, 626.4929, 1545.2988}},
      {{0.6501393, -0.7476588, -0.0954617, 0.0959808}, {923.5740, -3877.9243, 1504.5518}},
      {{0.0699353, -0.0712403, 0.7421637, -0.662742}, {-781.4915, 3838.8853, 1444.9929}}}},
    {"S3", true,
     {{{0.424207, -0.4983646, -0.5802981, 0.4847012}, {4062.2271, 663.2477, 1528.3970}},
      {{0.6503354, -0.7481602, -0.0919284, 0.0941766}, {844.8131, -3805.2092, 1504.9929}},
      {{0.0664734, -0.0690535, 0.7416416, -0.6639132}, {-797.6738, 3916.3174, 1433.6602}}}},
    {"S4", false, {}},
};

// VideoPose3D converts translations with a float32 division: float32(mm) / 1000.
Vec3f millimetres_to_metres(const double translation_mm[3]) {
  Vec3f metres{};
  for (int i = 0; i < 3; ++i) metres[i] = static_cast<float>(translation_mm[i]) / 1000.0f;
  return metres;
}

void set_extrinsics(Camera& camera, const ExtrinsicRecord& record) {
  camera.has_extrinsics = true;
  for (int i = 0; i < 4; ++i) camera.orientation[i] = static_cast<float>(record.orientation[i]);
  camera.translation = millimetres_to_metres(record.translation);
}

// Screen normalisation of one (x, y) pair from float32 data: numpy divides and doubles in
// float32, then subtracts the Python-float offsets in float64; the caller rounds the result.
void normalize_float_pair(float x, float y, int res_w, int res_h, double& out_x, double& out_y) {
  const float w = static_cast<float>(res_w);
  out_x = static_cast<double>(x / w * 2.0f) - 1.0;
  out_y = static_cast<double>(y / w * 2.0f) - static_cast<double>(res_h) / res_w;
}

void check_resolution(int res_w, int res_h, const char* function) {
  if (res_w <= 0 || res_h <= 0)
    throw InputError(std::string(function) + ": camera resolution " + std::to_string(res_w) + "x" +
                     std::to_string(res_h) + " is not positive");
}

std::int64_t last_axis(const io::NdArray& array, const char* function, std::int64_t min_size,
                       std::int64_t max_size) {
  if (array.shape.empty() || array.shape.back() < min_size || array.shape.back() > max_size)
    throw InputError(std::string(function) + ": expected an array whose last axis has " +
                     (min_size == max_size ? std::to_string(min_size) : "at least " + std::to_string(min_size)) +
                     " values, found shape " + array.shape_string());
  return array.shape.back();
}

void require_float32(const io::NdArray& array, const char* function) {
  if (array.dtype != io::DType::Float32)
    throw InputError(std::string(function) + ": expected float32 data, found " + io::dtype_name(array.dtype));
}

io::NdArray rigid_transform(const io::NdArray& points, const char* function, bool to_camera,
                            const Quaternion& orientation, const Vec3f& translation) {
  require_float32(points, function);
  last_axis(points, function, 3, 3);
  io::NdArray out = io::NdArray::zeros(io::DType::Float32, points.shape);
  const float* in = points.data<float>();
  float* result = out.data<float>();
  const Quaternion inverse = quaternion_inverse(orientation);
  for (std::int64_t i = 0; i < points.numel() / 3; ++i) {
    Vec3f p{in[3 * i], in[3 * i + 1], in[3 * i + 2]};
    Vec3f q;
    if (to_camera) {
      for (int c = 0; c < 3; ++c) p[c] -= translation[c];
      q = quaternion_rotate(inverse, p);
    } else {
      q = quaternion_rotate(orientation, p);
      for (int c = 0; c < 3; ++c) q[c] += translation[c];
    }
    std::memcpy(result + 3 * i, q.data(), sizeof(float) * 3);
  }
  return out;
}

std::array<float, 2> pair_of(const std::vector<double>& values) {
  return {static_cast<float>(values[0]), static_cast<float>(values[1])};
}

std::vector<double> sized_numbers(const io::Value& camera, const std::string& key, std::size_t size,
                                  const std::string& what) {
  const std::string where = what + detail::subscript(key);
  std::vector<double> values = detail::numbers_of(camera.at(key, what), where);
  if (values.size() != size)
    throw InputError(where + ": expected " + std::to_string(size) + " numbers, found " +
                     std::to_string(values.size()));
  return values;
}

io::ValuePtr float_list(const float* values, std::size_t count) {
  std::vector<io::ValuePtr> items;
  for (std::size_t i = 0; i < count; ++i) items.push_back(io::Value::from_float(values[i]));
  return io::Value::list(std::move(items));
}

// A float32 millimetre value that the reader's float32(mm) / 1000 maps back to `metres`
// exactly (the nearest float to metres * 1000 or one of its neighbours nearly always does).
float millimetres_for(float metres) {
  const float guess = static_cast<float>(static_cast<double>(metres) * 1000.0);
  for (float candidate : {guess, std::nextafter(guess, -INFINITY), std::nextafter(guess, INFINITY)})
    if (candidate / 1000.0f == metres) return candidate;
  return guess;
}

}  // namespace

Intrinsic Camera::intrinsic() const {
  if (!has_intrinsics) throw InputError("camera '" + id + "' has no intrinsic parameters");
  check_resolution(res_w, res_h, "Camera::intrinsic");
  const float w = static_cast<float>(res_w);
  double cx = 0.0, cy = 0.0;
  normalize_float_pair(center[0], center[1], res_w, res_h, cx, cy);
  return {focal_length[0] / w * 2.0f,
          focal_length[1] / w * 2.0f,
          static_cast<float>(cx),
          static_cast<float>(cy),
          radial_distortion[0],
          radial_distortion[1],
          radial_distortion[2],
          tangential_distortion[0],
          tangential_distortion[1]};
}

namespace {

CameraTable build_h36m_cameras() {
  CameraTable table;
  for (const SubjectExtrinsics& subject : kH36mExtrinsics) {
    std::vector<Camera>& cameras = table[subject.subject];
    for (int i = 0; i < 4; ++i) {
      const IntrinsicRecord& record = kH36mIntrinsics[i];
      Camera camera;
      camera.id = record.id;
      camera.res_w = record.res_w;
      camera.res_h = record.res_h;
      camera.azimuth = record.azimuth;
      camera.has_intrinsics = true;
      camera.center = {static_cast<float>(record.center[0]), static_cast<float>(record.center[1])};
      camera.focal_length = {static_cast<float>(record.focal_length[0]),
                             static_cast<float>(record.focal_length[1])};
      for (int k = 0; k < 3; ++k) camera.radial_distortion[k] = static_cast<float>(record.radial_distortion[k]);
      for (int k = 0; k < 2; ++k)
        camera.tangential_distortion[k] = static_cast<float>(record.tangential_distortion[k]);
      if (subject.known) set_extrinsics(camera, subject.cameras[i]);
      cameras.push_back(camera);
    }
  }
  return table;
}

CameraTable build_humaneva_cameras() {
  CameraTable table;
  for (const HumanEvaSubjectExtrinsics& subject : kHumanEvaExtrinsics) {
    std::vector<Camera> cameras;
    for (int i = 0; i < 3; ++i) {
      Camera camera;
      camera.id = kHumanEvaIntrinsics[i].id;
      camera.res_w = kHumanEvaIntrinsics[i].res_w;
      camera.res_h = kHumanEvaIntrinsics[i].res_h;
      camera.azimuth = kHumanEvaIntrinsics[i].azimuth;
      if (subject.known) set_extrinsics(camera, subject.cameras[i]);
      cameras.push_back(camera);
    }
    // The HumanEva files name subjects by split ("Train/S1", "Unlabeled/Validate/S2", ...).
    for (const char* prefix : {"Train/", "Validate/", "Unlabeled/Train/", "Unlabeled/Validate/", "Unlabeled/"})
      table[std::string(prefix) + subject.subject] = cameras;
  }
  return table;
}

}  // namespace

const CameraTable& h36m_cameras() {
  static const CameraTable table = build_h36m_cameras();
  return table;
}

const CameraTable& humaneva_cameras() {
  static const CameraTable table = build_humaneva_cameras();
  return table;
}

Camera custom_camera(const std::string& video_name, int res_w, int res_h) {
  Camera camera;
  camera.id = video_name;
  camera.res_w = res_w;
  camera.res_h = res_h;
  camera.azimuth = 70;
  // Placeholder extrinsics (Human3.6M S1, camera 0), only meaningful for rendering.
  set_extrinsics(camera, kH36mExtrinsics[0].cameras[0]);
  return camera;
}

io::ValuePtr camera_to_value(const Camera& camera) {
  using io::Value;
  std::vector<std::pair<io::ValuePtr, io::ValuePtr>> entries;
  auto add = [&](const char* key, io::ValuePtr value) { entries.emplace_back(Value::from_str(key), std::move(value)); };
  add("id", Value::from_str(camera.id));
  add("res_w", Value::from_int(camera.res_w));
  add("res_h", Value::from_int(camera.res_h));
  add("azimuth", Value::from_float(camera.azimuth));
  if (camera.has_intrinsics) {
    add("center", float_list(camera.center.data(), 2));
    add("focal_length", float_list(camera.focal_length.data(), 2));
    add("radial_distortion", float_list(camera.radial_distortion.data(), 3));
    add("tangential_distortion", float_list(camera.tangential_distortion.data(), 2));
  }
  if (camera.has_extrinsics) {
    add("orientation", float_list(camera.orientation.data(), 4));
    std::array<float, 3> millimetres{};
    for (int i = 0; i < 3; ++i) millimetres[i] = millimetres_for(camera.translation[i]);
    add("translation", float_list(millimetres.data(), 3));
  }
  return Value::dict(std::move(entries));
}

Camera camera_from_value(const io::Value& value, const std::string& what) {
  Camera camera;
  if (io::ValuePtr id = value.find("id", what)) {
    camera.id = id->kind == io::Value::Kind::Str ? id->text : id->repr();
  }
  camera.res_w = static_cast<int>(detail::integer_of(value.at("res_w", what), what + "['res_w']"));
  camera.res_h = static_cast<int>(detail::integer_of(value.at("res_h", what), what + "['res_h']"));
  check_resolution(camera.res_w, camera.res_h, what.c_str());
  if (io::ValuePtr azimuth = value.find("azimuth", what))
    camera.azimuth = detail::number_of(*azimuth, what + "['azimuth']");

  if (value.find("center", what) || value.find("focal_length", what)) {
    camera.has_intrinsics = true;
    camera.center = pair_of(sized_numbers(value, "center", 2, what));
    camera.focal_length = pair_of(sized_numbers(value, "focal_length", 2, what));
    // Distortion is optional: an ideal pinhole camera leaves it out.
    if (value.find("radial_distortion", what)) {
      std::vector<double> k = sized_numbers(value, "radial_distortion", 3, what);
      for (int i = 0; i < 3; ++i) camera.radial_distortion[i] = static_cast<float>(k[i]);
    }
    if (value.find("tangential_distortion", what)) {
      std::vector<double> p = sized_numbers(value, "tangential_distortion", 2, what);
      for (int i = 0; i < 2; ++i) camera.tangential_distortion[i] = static_cast<float>(p[i]);
    }
  }
  if (value.find("orientation", what) || value.find("translation", what)) {
    ExtrinsicRecord record{};
    std::vector<double> orientation = sized_numbers(value, "orientation", 4, what);
    std::vector<double> translation = sized_numbers(value, "translation", 3, what);
    for (int i = 0; i < 4; ++i) record.orientation[i] = orientation[i];
    for (int i = 0; i < 3; ++i) record.translation[i] = translation[i];
    set_extrinsics(camera, record);
  }
  return camera;
}

Vec3f quaternion_rotate(const Quaternion& q, const Vec3f& v) {
  // v + 2 * (w * (u x v) + u x (u x v)) with u the vector part, as VideoPose3D's qrot.
  const float ux = q[1], uy = q[2], uz = q[3];
  const Vec3f uv{uy * v[2] - uz * v[1], uz * v[0] - ux * v[2], ux * v[1] - uy * v[0]};
  const Vec3f uuv{uy * uv[2] - uz * uv[1], uz * uv[0] - ux * uv[2], ux * uv[1] - uy * uv[0]};
  Vec3f result{};
  for (int c = 0; c < 3; ++c) result[c] = v[c] + 2.0f * (q[0] * uv[c] + uuv[c]);
  return result;
}

Quaternion quaternion_inverse(const Quaternion& q) { return {q[0], -q[1], -q[2], -q[3]}; }

io::NdArray world_to_camera(const io::NdArray& world, const Quaternion& orientation, const Vec3f& translation) {
  return rigid_transform(world, "world_to_camera", true, orientation, translation);
}

io::NdArray camera_to_world(const io::NdArray& camera_space, const Quaternion& orientation,
                            const Vec3f& translation) {
  return rigid_transform(camera_space, "camera_to_world", false, orientation, translation);
}

io::NdArray project_to_2d(const io::NdArray& camera_space, const Intrinsic& intrinsic) {
  require_float32(camera_space, "project_to_2d");
  last_axis(camera_space, "project_to_2d", 3, 3);
  std::vector<std::int64_t> shape = camera_space.shape;
  shape.back() = 2;
  io::NdArray out = io::NdArray::zeros(io::DType::Float32, shape);
  const float* in = camera_space.data<float>();
  float* result = out.data<float>();
  const float fx = intrinsic[0], fy = intrinsic[1], cx = intrinsic[2], cy = intrinsic[3];
  const float k1 = intrinsic[4], k2 = intrinsic[5], k3 = intrinsic[6];
  const float p1 = intrinsic[7], p2 = intrinsic[8];
  for (std::int64_t i = 0; i < camera_space.numel() / 3; ++i) {
    const float z = in[3 * i + 2];
    // The clamp keeps points far outside the field of view from blowing up the polynomial.
    const float x = std::min(std::max(in[3 * i] / z, -1.0f), 1.0f);
    const float y = std::min(std::max(in[3 * i + 1] / z, -1.0f), 1.0f);
    const float r2 = x * x + y * y;
    const float radial = 1.0f + (k1 * r2 + k2 * (r2 * r2) + k3 * (r2 * r2 * r2));
    const float tangential = p1 * x + p2 * y;
    const float xd = x * (radial + tangential) + p1 * r2;
    const float yd = y * (radial + tangential) + p2 * r2;
    result[2 * i] = fx * xd + cx;
    result[2 * i + 1] = fy * yd + cy;
  }
  return out;
}

io::NdArray normalize_screen_coordinates(const io::NdArray& pixels, int res_w, int res_h) {
  check_resolution(res_w, res_h, "normalize_screen_coordinates");
  const std::int64_t channels = last_axis(pixels, "normalize_screen_coordinates", 2, std::numeric_limits<std::int64_t>::max());
  const std::int64_t points = pixels.numel() / channels;
  io::NdArray out = io::NdArray::zeros(io::DType::Float32, pixels.shape);
  float* result = out.data<float>();
  if (pixels.dtype == io::DType::Float32) {
    const float* in = pixels.data<float>();
    for (std::int64_t i = 0; i < points; ++i) {
      const float* p = in + i * channels;
      double x = 0.0, y = 0.0;
      normalize_float_pair(p[0], p[1], res_w, res_h, x, y);
      result[i * channels] = static_cast<float>(x);
      result[i * channels + 1] = static_cast<float>(y);
      for (std::int64_t c = 2; c < channels; ++c) result[i * channels + c] = p[c];
    }
  } else {
    // Any other dtype computes in float64, as numpy promotes it.
    const std::vector<double> in = pixels.to_doubles();
    const double w = res_w;
    const double aspect = static_cast<double>(res_h) / res_w;
    for (std::int64_t i = 0; i < points; ++i) {
      const double* p = in.data() + i * channels;
      result[i * channels] = static_cast<float>(p[0] / w * 2.0 - 1.0);
      result[i * channels + 1] = static_cast<float>(p[1] / w * 2.0 - aspect);
      for (std::int64_t c = 2; c < channels; ++c) result[i * channels + c] = static_cast<float>(p[c]);
    }
  }
  return out;
}

io::NdArray image_coordinates(const io::NdArray& normalized, int res_w, int res_h) {
  check_resolution(res_w, res_h, "image_coordinates");
  require_float32(normalized, "image_coordinates");
  const std::int64_t channels = last_axis(normalized, "image_coordinates", 2, std::numeric_limits<std::int64_t>::max());
  io::NdArray out = normalized;
  float* result = out.data<float>();
  const double w = res_w;
  const double aspect = static_cast<double>(res_h) / res_w;
  for (std::int64_t i = 0; i < normalized.numel() / channels; ++i) {
    // numpy adds the Python-float offsets in float64, then the caller rounds to float32.
    result[i * channels] = static_cast<float>((result[i * channels] + 1.0) * w / 2.0);
    result[i * channels + 1] = static_cast<float>((result[i * channels + 1] + aspect) * w / 2.0);
  }
  return out;
}

}  // namespace poselift::data
